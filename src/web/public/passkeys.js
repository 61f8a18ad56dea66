/* global document, fetch, URLSearchParams, FormData */
// Passkeys (issue 13): drives the forms marked data-passkey. Each posts first to its own action for
// the ceremony's options (as JSON; without this module the same post answers that passkeys need
// JavaScript), then the browser's answer goes in the hidden form named by data-finish, posted as a
// plain form so the server answers with a page as usual. Served from /static (CSP script-src
// 'self'), after @simplewebauthn/browser's bundle (globalThis.SimpleWebAuthnBrowser).
const lib = globalThis.SimpleWebAuthnBrowser;

for (const form of document.querySelectorAll("form[data-passkey]")) {
  const finish = document.getElementById(form.dataset.finish);
  const status = form.querySelector("[data-passkey-status]");
  const button = form.querySelector("button[type=submit]");
  const say = (text, problem) => {
    status.textContent = text;
    status.className = problem ? "passkey-status message error" : "passkey-status";
    if (problem) status.setAttribute("role", "alert");
    else status.removeAttribute("role");
  };
  if (!lib || !lib.browserSupportsWebAuthn() || !finish) {
    say(form.dataset.unsupported, true);
    button.disabled = true;
    continue;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      const body = new URLSearchParams();
      for (const [name, value] of new FormData(form)) body.append(name, String(value));
      const answer = await fetch(form.action, { method: "POST", body, credentials: "same-origin", headers: { accept: "application/json" } });
      const reply = await answer.json().catch(() => ({}));
      if (!answer.ok || !reply.options) {
        say(reply.error ?? form.dataset.cancelled, true);
        return;
      }
      say(form.dataset.working, false);
      const credential =
        form.dataset.passkey === "register"
          ? await lib.startRegistration({ optionsJSON: reply.options })
          : await lib.startAuthentication({ optionsJSON: reply.options });
      finish.elements.namedItem("credential").value = JSON.stringify(credential);
      const name = finish.elements.namedItem("name");
      if (name) name.value = form.elements.namedItem("name").value;
      finish.submit();
    } catch {
      say(form.dataset.cancelled, true);
    } finally {
      button.disabled = false;
    }
  });
}
