/* global document, fetch, setTimeout */
// OTP capture keeps itself current while the code's email is queued or being retried (issue 15), for as
// long as the code can still be confirmed: the page gives that time in data-valid-for-ms (from the
// code's expiry on FAMOS's clock, so a PC's wrong clock does not matter: only time elapsed here counts).
// After that the code is dead and no delivery line can help. Served from /static (CSP script-src 'self');
// the page works without it, a reload shows the same.
const box = document.getElementById("delivery");
const url = box?.dataset.statusUrl;
const validFor = Number(box?.dataset.validForMs);
// A page rendered without it (before this module knew the attribute): ten minutes, as before.
const LIMIT_MS = Number.isFinite(validFor) && box?.dataset.validForMs !== undefined ? Math.max(0, validFor) : 600_000;

/**
 * How long to wait before the next ask, at `elapsed` ms since the page loaded, or null to stop: every 3 s
 * for the first two minutes (the sender retries after 2, 4, 8, 16, 32 s, then every 60 s), then every 15 s;
 * the last ask when the code expires, none after.
 */
function nextDelay(elapsed) {
  if (elapsed >= LIMIT_MS) return null;
  return Math.min(elapsed < 120_000 ? 3000 : 15_000, LIMIT_MS - elapsed);
}

if (box && url) {
  const loaded = Date.now();
  const later = () => {
    const delay = nextDelay(Date.now() - loaded);
    if (delay !== null) setTimeout(poll, delay);
  };
  const poll = async () => {
    try {
      const response = await fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin", redirect: "error" });
      if (response.ok) {
        const status = await response.json();
        // Server-rendered by FAMOS's escaping template (src/web/pages/code-entry.ts).
        box.innerHTML = status.html;
        if (!status.pending) return;
      }
    } catch {
      // Signed out, or the network dropped: try again at the next tick.
    }
    later();
  };
  later();
}
