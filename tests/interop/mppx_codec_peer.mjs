// mppx 0.11.0 as a codec peer: reads a JSON job on stdin, prints a JSON answer.
// Usage: node mppx_codec_peer.mjs <dir holding node_modules/mppx>
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const base = process.argv[2];
const { Challenge, Credential, Receipt } = await import(
  pathToFileURL(`${base}/node_modules/mppx/dist/index.js`).href
);
const job = JSON.parse(readFileSync(0, "utf8"));

const pick = (c) => ({
  id: c.id, realm: c.realm, method: c.method, intent: c.intent, request: c.request,
  description: c.description ?? null, expires: c.expires ?? null, digest: c.digest ?? null,
  opaque: c.opaque ?? null, header: c.header ?? null,
});
const attempt = (fn) => { try { return { ok: fn() }; } catch (e) { return { error: String(e.message || e) }; } };

const challenges = Challenge.deserializeList(job.header);
const theirs = Challenge.from({
  secretKey: job.secret, realm: job.realm, method: "stripe", intent: "charge",
  request: job.request, expires: job.expires, description: job.description,
  meta: { order: "o-77" },
});
console.log(JSON.stringify({
  parsed: challenges.map(pick),
  verified: challenges.map((c) => Challenge.verify(c, { secretKey: job.secret })),
  credential: attempt(() => Credential.deserialize(job.authorization)),
  receipt: attempt(() => Receipt.deserialize(job.receipt)),
  their_header: Challenge.serialize(theirs),
  their_authorization: Credential.serialize(
    Credential.from({ challenge: theirs, payload: { spt: "spt_m" } })),
  their_receipt: Receipt.serialize(Receipt.from({
    method: "stripe", reference: "pi_m", status: "success",
    timestamp: "2030-01-01T00:00:00.000Z", externalId: "order-9" })),
}));
