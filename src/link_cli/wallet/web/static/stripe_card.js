// The add-card page in stripe mode: Stripe.js collects the card in its own frame and
// returns a PaymentMethod; only its pm_… id is posted to the wallet.
(function () {
  "use strict";
  var form = document.getElementById("stripe-card-form");
  if (!form) return;
  var error = document.getElementById("err-payment_method");
  if (typeof Stripe !== "function") {
    error.textContent = "Stripe's card form could not load; check your connection and reload.";
    form.querySelector("button[type=submit]").disabled = true;
    return;
  }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#stripe-card-element");
  var value = function (name) {
    var input = form.elements[name];
    return input && input.value ? input.value.trim() : undefined;
  };
  form.addEventListener("submit", function (event) {
    if (form.elements.payment_method.value) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.textContent = "";
    stripe
      .createPaymentMethod({
        type: "card",
        card: card,
        billing_details: {
          name: value("name"),
          address: {
            line1: value("line1"),
            line2: value("line2"),
            city: value("city"),
            state: value("state"),
            postal_code: value("postal_code"),
            country: (value("country") || "").toUpperCase() || undefined,
          },
        },
      })
      .then(function (result) {
        if (result.error) {
          error.textContent = result.error.message;
          button.disabled = false;
          return;
        }
        form.elements.payment_method.value = result.paymentMethod.id;
        form.submit();
      });
  });
})();
