// A merchant built with mppx 0.11.0 (server side, Stripe charge) that settles at the wallet.
// mppx takes a Stripe SDK instance as `client`; the Node `stripe` package is not a test
// peer, so this is the smallest stand-in for it: `paymentIntents.create(params, options)`
// sent as stripe-node sends it (form-encoded with brackets, Bearer key, Stripe-Version,
// Idempotency-Key), answering `lastResponse.headers` for mppx's replay detection.
// Usage: node mppx_merchant.mjs <dir holding node_modules/mppx> <port> <wallet url> <network id>
// The secret key comes from the MERCHANT_SECRET_KEY variable (never from argv).
import * as http from "node:http";
import { pathToFileURL } from "node:url";

const [base, port, walletUrl, networkId] = process.argv.slice(2);
const { Mppx, stripe } = await import(
  pathToFileURL(`${base}/node_modules/mppx/dist/server/index.js`).href
);
const secretKey = process.env.MERCHANT_SECRET_KEY;

function formEncode(value, prefix, out) {
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    value.forEach((item, index) => formEncode(item, `${prefix}[${index}]`, out));
  } else if (typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      formEncode(item, prefix ? `${prefix}[${key}]` : key, out);
    }
  } else {
    out.append(prefix, String(value));
  }
  return out;
}

class StripeError extends Error {}

const walletStripe = {
  paymentIntents: {
    async create(params, options = {}) {
      const headers = {
        Authorization: `Bearer ${secretKey}`,
        "Content-Type": "application/x-www-form-urlencoded",
      };
      if (options.apiVersion) headers["Stripe-Version"] = options.apiVersion;
      if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
      const response = await fetch(`${walletUrl}/v1/payment_intents`, {
        method: "POST",
        headers,
        body: formEncode(params, "", new URLSearchParams()).toString(),
      });
      const body = await response.json();
      if (!response.ok) throw new StripeError(body?.error?.message ?? `HTTP ${response.status}`);
      body.lastResponse = { headers: Object.fromEntries(response.headers.entries()) };
      return body;
    },
  },
};

const payment = Mppx.create({
  methods: [
    stripe.charge({
      client: walletStripe,
      networkId,
      paymentMethodTypes: ["card"],
      currency: "usd",
      decimals: 2,
    }),
  ],
  realm: "mppx-merchant.test",
  secretKey: "mppx-merchant-test-secret-0123456789abcdef",
});

http
  .createServer(async (req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"status":"ok"}');
      return;
    }
    const result = await Mppx.toNodeListener(payment.charge({ amount: "2.50" }))(req, res);
    if (result.status === 402) return;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ paid: true, via: "mppx" }));
  })
  .listen(Number(port), "127.0.0.1");
