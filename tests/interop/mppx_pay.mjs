// Pays a 402 URL with mppx 0.11.0's own client, handing it a ready SPT.
// Usage: MPPX_CLIENT=<file URL of mppx/dist/client/index.js> node mppx_pay.mjs <url> <spt>
// Prints one JSON line: {status, receipt, body, challenge: {networkId, amount, currency}}.
const { Mppx, stripe } = await import(process.env.MPPX_CLIENT)
const [url, spt] = process.argv.slice(2)
let seen = null
const mppx = Mppx.create({
  polyfill: false,
  methods: [
    stripe.charge({
      paymentMethod: 'pm_interop',
      createToken: async ({ networkId, amount, currency }) => {
        seen = { networkId, amount, currency }
        return spt
      },
    }),
  ],
})
const response = await mppx.fetch(url)
console.log(
  JSON.stringify({
    status: response.status,
    receipt: response.headers.get('payment-receipt'),
    body: await response.text(),
    challenge: seen,
  }),
)
