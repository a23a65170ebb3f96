"""The portal benchmark's clients, in processes of their own (``python -m controller.bench.portal_clients``).

``tablets JOB.json``: every tablet opens ``/p/events`` on the front over its own TLS connection with
its portal session cookie (or badge token: the job gives each tablet's headers), all at once, and
waits for the notice whose title is the job's mark; it records when the notice arrived (wall
clock: sender and tablets are on one machine). Prints one JSON object: ``connected``,
``delivered``, ``arrivals`` (epoch seconds), ``errors``, ``client_cpu_s``.

``staff JOB.json``: a logged-in staff browser asks the staff page for its pages in turn (the
dashboard, the attendance and devices JSON) until its standard input closes; prints each answer's
time and wall-clock end. Both read the venue CA from the job.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import resource
import ssl
import sys
import threading
import time
from pathlib import Path

STAFF_PATHS = ("/", "/api/summary", "/api/devices", "/documents")


def _context(ca: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    return ctx


async def _tablet(url: str, headers: dict, mark: str, ctx, timeout: float, out: dict) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(ssl=ctx, limit=1)
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout))
    try:
        async with session, session.get(url, headers=headers) as resp:
            if resp.status != 200:
                out["errors"].append(f"HTTP {resp.status}")
                return
            out["connected"] += 1
            kind = None
            async for raw in resp.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "notice":
                    data = json.loads(line[6:])
                    if (data.get("notice") or {}).get("title") == mark:
                        out["arrivals"].append(time.time())
                        return
    except (aiohttp.ClientError, TimeoutError, OSError, ssl.SSLError) as exc:
        out["errors"].append(f"{type(exc).__name__}: {exc}"[:200])


async def tablets(job: dict) -> dict:
    ctx = _context(job["ca"])
    out: dict = {"connected": 0, "arrivals": [], "errors": []}
    await asyncio.gather(
        *(_tablet(job["url"], h, job["mark"], ctx, job.get("timeout", 300), out) for h in job["headers"])
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "connected": out["connected"],
        "delivered": len(out["arrivals"]),
        "arrivals": out["arrivals"],
        "errors": out["errors"][:5],
        "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
    }


def staff(job: dict) -> dict:
    """Ask for the staff pages over one keep-alive TLS connection until stdin closes."""
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    conn = http.client.HTTPSConnection("127.0.0.1", job["port"], context=_context(job["ca"]), timeout=60)
    times, ends, errors, n = [], [], [], 0
    print("ready", file=sys.stderr, flush=True)
    while not stop.is_set():
        path = STAFF_PATHS[n % len(STAFF_PATHS)]
        n += 1
        t0 = time.perf_counter()
        try:
            conn.request("GET", path, headers={"Cookie": f"congress_session={job['cookie']}",
                                               "Accept": "text/html"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append(f"{path}: HTTP {r.status}")
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{path}: {type(exc).__name__}")
            conn.close()
            conn = http.client.HTTPSConnection("127.0.0.1", job["port"], context=_context(job["ca"]),
                                               timeout=60)
        times.append(time.perf_counter() - t0)
        ends.append(time.time())
    conn.close()
    return {"requests": len(times), "times": [round(t, 4) for t in times], "ends": ends, "errors": errors[:5]}


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    job = json.loads(Path(path).read_text())
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    result = asyncio.run(tablets(job)) if mode == "tablets" else staff(job)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
