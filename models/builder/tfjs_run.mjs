// Runs a TF.js graph model with TF.js itself (pure-JS CPU backend), the reference our converted
// TFLite models are checked against: node tfjs_run.mjs MODEL.json INPUT.f32 N H W OUTPUT OUT.f32
// INPUT.f32 holds N images of H×W×3 float32 values exactly as the model takes them; the named
// output of every image is written to OUT.f32 as float32, one row per image.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(join(process.cwd(), 'models', 'npm', 'package.json'));
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const converter = require('@tensorflow/tfjs-converter');

const [modelPath, inputPath, n, h, w, outputName, outPath] = process.argv.slice(2);

const handler = {
  load: async () => {
    const model = JSON.parse(readFileSync(modelPath, 'utf8'));
    const specs = [];
    const buffers = [];
    for (const group of model.weightsManifest) {
      specs.push(...group.weights);
      for (const p of group.paths) buffers.push(readFileSync(join(dirname(modelPath), p)));
    }
    const data = Buffer.concat(buffers);
    return {
      modelTopology: model.modelTopology,
      weightSpecs: specs,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      format: model.format,
      generatedBy: model.generatedBy,
      convertedBy: model.convertedBy,
      signature: model.signature,
      userDefinedMetadata: model.userDefinedMetadata,
    };
  },
};

await tf.setBackend('cpu');
const model = await converter.loadGraphModel(handler);
const raw = readFileSync(inputPath);
const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const size = Number(h) * Number(w) * 3;
const rows = [];
for (let i = 0; i < Number(n); i += 1) {
  const x = tf.tensor4d(all.slice(i * size, (i + 1) * size), [1, Number(h), Number(w), 3]);
  const y = model.execute(x, outputName);
  rows.push(Float32Array.from(y.dataSync()));
  tf.dispose([x, y]);
}
const width = rows.length ? rows[0].length : 0;
const out = new Float32Array(rows.length * width);
rows.forEach((r, i) => out.set(r, i * width));
writeFileSync(outPath, Buffer.from(out.buffer));
