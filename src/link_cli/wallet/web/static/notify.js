// Subscribes this browser to Web Push and sends the subscription to the wallet.
"use strict";
(function () {
  const controls = document.getElementById("push-controls");
  if (!controls) return;
  const button = document.getElementById("push-subscribe");
  const status = document.getElementById("push-status");
  const say = (text) => { status.textContent = text; };

  function keyBytes(base64url) {
    const padded = base64url + "=".repeat((4 - (base64url.length % 4)) % 4);
    const raw = atob(padded.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function deviceLabel() {
    const ua = navigator.userAgent;
    const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS"
      : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows"
      : /Linux/.test(ua) ? "Linux" : "a device";
    const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox"
      : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
    return `${browser} on ${os}`;
  }

  async function subscribe() {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
      say("This browser cannot receive push notifications.");
      return;
    }
    button.disabled = true;
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say("Notifications are blocked for this site; allow them in the browser's settings.");
        return;
      }
      const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(controls.dataset.vapidKey),
      });
      const json = subscription.toJSON();
      const body = new URLSearchParams({
        csrf_token: controls.dataset.csrf,
        endpoint: json.endpoint,
        p256dh: json.keys.p256dh,
        auth: json.keys.auth,
        label: deviceLabel(),
      });
      const answer = await fetch("/wallet/notifications/push", {
        method: "POST", body, credentials: "same-origin",
      });
      if (!answer.ok) {
        const problem = await answer.json().catch(() => ({}));
        say((problem.error && problem.error.message) || `The wallet answered ${answer.status}.`);
        return;
      }
      say("This device will be notified.");
      window.location.reload();
    } catch (error) {
      say(`Could not subscribe: ${error.message || error}`);
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", subscribe);
})();
