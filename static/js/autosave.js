/* A quiz attempt's answers, saved as the learner goes.
 *
 * An enhancement only: without it the page has a "Save and continue later" button, a server-rendered
 * "n of N answered", and the server's review of what is unanswered when "Submit answers" is pressed.
 * With it, the whole form is posted to the attempt's save address shortly after every change (any
 * `change` or `input` event bubbling up from a field, including those that drag and drop sends), the
 * count follows each change, and what happened is said in a polite status. What is unanswered is
 * reviewed by the server when "Submit answers" is pressed (one review, for every browser: it also
 * catches what a script cannot, such as two steps given the same position); this script moves the
 * keyboard focus to it.
 */
(() => {
  "use strict";

  const form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.URLSearchParams) return;

  const SAVE_DELAY = 400; // ms after the last change: a burst of changes (drag and drop) is one save
  const RETRY_DELAYS = [3000, 10000, 30000, 60000]; // ms: a lost connection is tried again, less and less often
  const address = form.dataset.autosave;
  const total = Number(form.dataset.total);
  const status = form.querySelector("[data-save-status]");
  const hint = form.querySelector("[data-save-hint]");

  const MESSAGES = {
    offline: "Not saved: the connection was lost. Your answers stay on this page and saving will be tried again.",
    server: "Not saved: something went wrong on our side. Saving will be tried again in a moment.",
    signedOut:
      "Not saved: you are signed out. Sign in again and come back to this quiz; answers saved before are kept.",
    expired: "Not saved: this page has expired. Reload it: your saved answers are filled in again.",
    tooLarge: "Not saved: the page sent more than a quiz needs. Reload the page and try again.",
  };

  let timer = 0;
  let dirty = false; // changed since the last save was sent
  let busy = false; // a save is on its way
  let failures = 0;

  /** The items on the page, in order: each a fieldset whose id is "item-" and the item's id. */
  function items() {
    return Array.from(form.querySelectorAll("fieldset.item[id^='item-']"));
  }

  /** The answer controls of an item, grouped by field name (a matching item has one group per prompt). */
  function groups(item) {
    const byName = new Map();
    for (const control of item.querySelectorAll("input[name], select[name], textarea[name]")) {
      if (control.type === "hidden" || control.disabled) continue;
      if (!byName.has(control.name)) byName.set(control.name, []);
      byName.get(control.name).push(control);
    }
    return Array.from(byName.values());
  }

  function filled(group) {
    return group.some((c) => (c.type === "radio" || c.type === "checkbox" ? c.checked : c.value.trim() !== ""));
  }

  /** Whether every part of an item has a value (a half-ordered list is not answered yet), as the server counts. */
  function isAnswered(item) {
    const parts = groups(item);
    return parts.length > 0 && parts.every(filled);
  }

  function answered() {
    return items().filter(isAnswered).length;
  }

  function showCount() {
    const text = `${answered()} of ${total} answered`;
    for (const element of document.querySelectorAll("[data-answered-count]")) element.textContent = text;
  }

  function say(message, isError) {
    if (!status) return;
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  function clock() {
    return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  /** Post the whole form; `leaving` keeps the request alive after the page has gone. */
  function send(leaving) {
    return fetch(address, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      keepalive: Boolean(leaving),
    });
  }

  async function reply(response) {
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("application/json") ? await response.json().catch(() => null) : null;
    if (response.ok && data && data.saved) {
      failures = 0;
      say(`Saved at ${clock()}`);
      return;
    }
    dirty = true; // what is on the page is still not saved
    if (data && data.message) {
      say(data.message, true); // the server's own words: already submitted, quiz updated, not theirs
      if (response.status === 409 || response.status === 404) dirty = false; // saving again cannot help
      return;
    }
    if (response.redirected || response.status === 401) say(MESSAGES.signedOut, true);
    else if (response.status === 400) say(MESSAGES.expired, true);
    else if (response.status === 413) say(MESSAGES.tooLarge, true);
    else retry(MESSAGES.server);
  }

  function retry(message) {
    say(message, true);
    const delay = RETRY_DELAYS[Math.min(failures, RETRY_DELAYS.length - 1)];
    failures += 1;
    schedule(delay);
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  async function save() {
    clearTimeout(timer);
    if (!dirty) return;
    if (busy) {
      schedule(SAVE_DELAY); // one save at a time, so an older one never lands after a newer one
      return;
    }
    dirty = false;
    busy = true; // nothing is said until it is known: one announcement per save, not two
    try {
      await reply(await send(false));
    } catch (error) {
      dirty = true;
      retry(MESSAGES.offline);
    } finally {
      busy = false;
    }
  }

  /** The learner is leaving the page (a link, another form, the tab hidden): send what is unsaved now. */
  function saveBeforeLeaving() {
    if (!dirty) return;
    clearTimeout(timer);
    dirty = false;
    send(true).catch(() => {
      dirty = true;
    });
  }

  function changed() {
    dirty = true;
    showCount();
    schedule(SAVE_DELAY);
  }

  form.addEventListener("change", changed);
  form.addEventListener("input", changed);

  form.addEventListener("submit", () => {
    clearTimeout(timer); // either button posts the whole form: nothing is left to save
    dirty = false;
  });

  // Leaving by a link (Progress, Review...) or another form (Sign out): the last change goes first.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href]");
    if (link && !link.getAttribute("href").startsWith("#")) saveBeforeLeaving();
  }, true);
  document.addEventListener("submit", (event) => {
    if (event.target !== form) saveBeforeLeaving();
  }, true);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") saveBeforeLeaving();
  });
  window.addEventListener("pagehide", saveBeforeLeaving);

  if (hint) hint.textContent = "Your answers are saved as you go: you can leave this page and come back to it at any time.";
  showCount();
  // The server's review of what is missing is read out and focused, as the learner just pressed Submit.
  const summary = document.querySelector("main .error-summary");
  if (summary) summary.focus();
})();
