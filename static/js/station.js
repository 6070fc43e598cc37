/* The station rating page: a timer and saving as the rater goes.
 *
 * An enhancement only: without it the page says how many minutes the station has, "Save" keeps a
 * draft and "Submit rating" sends it. With it, a Start/Pause timer counts the station's minutes down
 * (and says so politely when time is up), and the whole form is posted with action=autosave shortly
 * after every change; the status line says "Saved at ..." or, plainly, why not.
 */
(() => {
  "use strict";

  const timerBox = document.querySelector("[data-station-timer]");
  if (timerBox) {
    const total = Number(timerBox.dataset.minutes) * 60;
    let left = total;
    let tick = 0;
    const display = document.createElement("p");
    display.className = "timer-display";
    display.setAttribute("role", "timer");
    const clock = document.createElement("span");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary timer-button";
    button.textContent = "Start timer";
    const reset = document.createElement("button");
    reset.type = "button";
    reset.className = "button secondary timer-button";
    reset.textContent = "Reset";
    const alert = document.createElement("p");
    alert.className = "timer-alert";
    alert.setAttribute("aria-live", "assertive");
    const show = () => {
      const minutes = Math.floor(left / 60);
      const seconds = String(left % 60).padStart(2, "0");
      clock.textContent = `${minutes}:${seconds} left`;
    };
    const stop = () => {
      window.clearInterval(tick);
      tick = 0;
      button.textContent = left > 0 ? "Start timer" : "Time is up";
    };
    button.addEventListener("click", () => {
      if (tick) return stop();
      if (left <= 0) return;
      button.textContent = "Pause timer";
      tick = window.setInterval(() => {
        left -= 1;
        show();
        if (left === 60) alert.textContent = "One minute left.";
        if (left <= 0) {
          alert.textContent = "Time is up.";
          timerBox.classList.add("time-up");
          stop();
        }
      }, 1000);
    });
    reset.addEventListener("click", () => {
      stop();
      left = total;
      alert.textContent = "";
      timerBox.classList.remove("time-up");
      button.textContent = "Start timer";
      show();
    });
    show();
    display.append(clock);
    const controls = document.createElement("div");
    controls.className = "timer-controls";
    controls.append(button, reset);
    timerBox.append(display, controls, alert);
  }

  const form = document.querySelector("form[data-station-autosave]");
  if (!form || !window.fetch || !window.FormData) return;
  const status = form.querySelector("[data-save-status]");
  const SAVE_DELAY = 500;
  let timer = 0;
  let busy = false;
  let again = false;

  function say(message, isError) {
    if (!status) return;
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  async function save() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    const data = new FormData(form);
    data.set("action", "autosave");
    try {
      // Not form.action: the buttons named "action" shadow that property.
      const response = await fetch(form.getAttribute("action") || window.location.href, {
        method: "POST",
        body: new URLSearchParams(data),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const body = await response.json();
        say(body.problems && body.problems.length ? body.problems.join(" ") : `Saved at ${body.saved_at} UTC.`, Boolean(body.problems && body.problems.length));
      } else if (response.status === 409) {
        say("Not saved: this rating was submitted already. Reload the page to see it.", true);
      } else if (response.status === 400) {
        say("Not saved: this page has expired. Press Save to keep what you entered.", true);
      } else {
        say("Not saved: something went wrong. Press Save to try again.", true);
      }
    } catch (_error) {
      say("Not saved: the connection was lost. What you entered stays on this page; press Save when you are back online.", true);
    } finally {
      busy = false;
      if (again) {
        again = false;
        save();
      }
    }
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, SAVE_DELAY);
  }

  form.addEventListener("change", later);
  form.addEventListener("input", (event) => {
    if (event.target.tagName === "TEXTAREA") later();
  });
})();
