"""The documents benchmark's tablets: many TLS clients fetching their document sets at once.

Run as its own process (``python -m controller.documents.loadgen JOB.json``) so it never shares a
GIL with the server it measures. The job lists, per tablet, the URLs and headers of its fetches; each
tablet has its own TLS connection (its own aiohttp connector, keep-alive, no session resumption
across tablets) and fetches its set in order, reading and counting every byte. All tablets start at
once. It prints one JSON object: per-tablet set times (``p50_s``, ``p99_s``), ``completed``,
``failed`` (a status other than 200, a short body, a time-out or a connection error; the first few
errors are listed), ``bytes``, ``seconds`` (first request to last byte), and its own CPU time, so
the report can show whether the load generator itself was the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import resource
import ssl
import sys
import time
from pathlib import Path

import aiohttp

CHUNK = 256 * 1024


async def _tablet(
    fetches: list[dict], ctx: ssl.SSLContext, timeout: float, errors: list
) -> tuple[float, int, bool]:
    start = time.perf_counter()
    got = 0
    connector = aiohttp.TCPConnector(ssl=ctx, limit=1, force_close=False, enable_cleanup_closed=True)
    try:
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as session:
            for fetch in fetches:
                async with session.get(fetch["url"], headers=fetch.get("headers", {})) as resp:
                    if resp.status != 200:
                        errors.append(f"{fetch['url']}: HTTP {resp.status}")
                        return time.perf_counter() - start, got, False
                    want = resp.content_length
                    body = 0
                    while chunk := await resp.content.read(CHUNK):
                        body += len(chunk)
                    got += body
                    if want is not None and body != want:
                        errors.append(f"{fetch['url']}: {body} of {want} bytes")
                        return time.perf_counter() - start, got, False
    except (aiohttp.ClientError, TimeoutError, OSError, ssl.SSLError) as exc:
        errors.append(f"{type(exc).__name__}: {exc}"[:200])
        return time.perf_counter() - start, got, False
    return time.perf_counter() - start, got, True


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def run(job: dict) -> dict:
    ctx = ssl.create_default_context(cafile=job["ca"])
    ctx.check_hostname = False  # the server certificate names the venue host; we dial 127.0.0.1
    errors: list[str] = []
    t0 = time.perf_counter()
    results = await asyncio.gather(
        *(_tablet(t, ctx, job.get("timeout", 600), errors) for t in job["tablets"])
    )
    seconds = time.perf_counter() - t0
    times = [r[0] for r in results if r[2]]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "tablets": len(results),
        "completed": sum(r[2] for r in results),
        "failed": sum(not r[2] for r in results),
        "bytes": sum(r[1] for r in results),
        "seconds": round(seconds, 3),
        "p50_s": round(_percentile(times, 0.5), 3),
        "p99_s": round(_percentile(times, 0.99), 3),
        "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "times": [round(t, 4) for t in times],
        "errors": errors[:5],
    }


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    import resource as r

    _, hard = r.getrlimit(r.RLIMIT_NOFILE)
    r.setrlimit(r.RLIMIT_NOFILE, (hard, hard))
    print(json.dumps(asyncio.run(run(job))))


if __name__ == "__main__":
    main()
