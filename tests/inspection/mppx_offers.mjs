// An mppx 0.11.0 merchant offering several methods on one 402 (tempo and stripe charges),
// for `merchant inspect`; it only issues challenges, so no Stripe client is needed.
// Usage: node mppx_offers.mjs <dir holding node_modules/mppx> <port> <network id>
import * as http from "node:http";
import { pathToFileURL } from "node:url";

const [base, port, networkId] = process.argv.slice(2);
const { Mppx, stripe, tempo } = await import(
  pathToFileURL(`${base}/node_modules/mppx/dist/server/index.js`).href
);
const unused = { paymentIntents: { create: async () => { throw new Error("not paid here"); } } };
const payment = Mppx.create({
  methods: [
    tempo.charge({
      currency: "0x20c0000000000000000000000000000000000001",
      recipient: "0x1111111111111111111111111111111111111111",
    }),
    stripe.charge({ client: unused, networkId, paymentMethodTypes: ["card"], currency: "usd", decimals: 2 }),
  ],
  realm: "mppx-offers.test",
  secretKey: "mppx-offers-test-secret-0123456789abcdef",
});

http
  .createServer(async (req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"status":"ok"}');
      return;
    }
    const handler = payment.compose(["tempo/charge", { amount: "2.50" }], ["stripe/charge", { amount: "2.50" }]);
    const result = await Mppx.toNodeListener(handler)(req, res);
    if (result.status === 402) return;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"paid":true}');
  })
  .listen(Number(port), "127.0.0.1", () => console.log("listening"));
