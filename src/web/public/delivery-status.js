/* global document, fetch, setTimeout */
// OTP capture keeps itself current while the code's email is queued or being retried (issue 15).
// Served from /static (CSP script-src 'self'); the page works without it, a reload shows the same.
const box = document.getElementById("delivery");
const url = box?.dataset.statusUrl;
const EVERY_MS = 3000;
const GIVE_UP_AFTER = 200; // about ten minutes

if (box && url) {
  let polls = 0;
  const poll = async () => {
    polls += 1;
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
    if (polls < GIVE_UP_AFTER) setTimeout(poll, EVERY_MS);
  };
  setTimeout(poll, EVERY_MS);
}
