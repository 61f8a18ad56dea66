/* global document, history, location, URL */
// A page answering a form post (src/web/form-answer.ts): its history entry becomes the page the form
// was on, fetched by GET, so Back and reload never ask to send the form again. The referrer is that
// page (Referrer-Policy same-origin: empty for any other site, and then nothing is changed).
const from = document.referrer ? new URL(document.referrer) : null;
if (from && from.origin === location.origin) history.replaceState(history.state, "", from.pathname + from.search);
