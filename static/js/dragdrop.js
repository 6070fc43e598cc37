/* Drag and drop for ordering and matching quiz items.
 *
 * An enhancement only. The server renders a position select per step (ordering) and an answer select
 * per prompt (matching); they work with a keyboard and without JavaScript, and they stay what the form
 * sends. Every change made here is written back to them and announced with `input` and `change`
 * events, so other scripts on the page (autosave) see it as if the learner had used them.
 * Loaded as a module from each item's template: the browser runs it once however many items include it.
 */

const DRAG_THRESHOLD = 6; // px a press must travel to become a drag, so a click stays a click
const EDGE = 56; // px from the top or bottom of the window where a drag scrolls the page
const SCROLL_STEP = 16; // px scrolled per frame there

/** The template with each {name} replaced by its value. */
function fill(template, values) {
  return (template || "").replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
}

/** The text a person reads in an element, spaces collapsed. */
function textOf(element) {
  return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
}

/** Tell listeners (autosave, validation) that a control's value changed, as a learner's own change would. */
function notify(control) {
  control.dispatchEvent(new Event("input", { bubbles: true }));
  control.dispatchEvent(new Event("change", { bubbles: true }));
}

/** A function that says a message through the item's live region. */
function announcer(item) {
  const region = item.querySelector("[data-dd-live]");
  let timer = 0;
  return (message) => {
    if (!region || !message) return;
    // Emptied first and refilled a moment later, so the same words said twice are read twice.
    region.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(() => {
      region.textContent = message;
    }, 60);
  };
}

/** Show the controls the server rendered hidden for scripts, and the hint that explains them. */
function reveal(item, selector) {
  for (const element of item.querySelectorAll(selector)) element.hidden = false;
  const hint = item.querySelector("[data-dd-hint]");
  if (hint) hint.textContent = hint.dataset.ddHint;
  item.classList.add("dd-ready");
}

/* Pointer dragging (mouse, pen and touch through Pointer Events), shared by both item types.
 * handlers.source(event) picks what a press may drag (or null); start(source, x, y), move(x, y) and
 * end(cancelled) follow the drag. Escape or a cancelled pointer ends it with cancelled = true. */
function pointerDrag(root, handlers) {
  let press = null;
  let lastX = 0;
  let lastY = 0;
  let frame = 0;

  function scrollNearEdges() {
    frame = 0;
    if (!press || !press.dragging) return;
    let step = 0;
    if (lastY < EDGE) step = -SCROLL_STEP;
    else if (lastY > window.innerHeight - EDGE) step = SCROLL_STEP;
    if (!step) return;
    const before = window.scrollY;
    window.scrollBy(0, step);
    if (window.scrollY !== before) handlers.move(lastX, lastY);
    frame = requestAnimationFrame(scrollNearEdges);
  }

  function swallowClick(event) {
    event.stopPropagation();
    event.preventDefault();
  }

  function noSelection(event) {
    event.preventDefault(); // a drag is not a text selection, whatever the pointer passes over
  }

  function onMove(event) {
    if (event.pointerId !== press.id) return;
    lastX = event.clientX;
    lastY = event.clientY;
    if (!press.dragging) {
      if (Math.hypot(lastX - press.x, lastY - press.y) < DRAG_THRESHOLD) return;
      press.dragging = true;
      handlers.start(press.source, press.x, press.y);
    }
    event.preventDefault();
    handlers.move(lastX, lastY);
    if (!frame) frame = requestAnimationFrame(scrollNearEdges);
  }

  function onUp(event) {
    if (event.pointerId === press.id) finish(event.type === "pointercancel");
  }

  function onKey(event) {
    if (event.key === "Escape" && press.dragging) {
      event.preventDefault();
      finish(true);
    }
  }

  function finish(cancelled) {
    const ended = press;
    press = null;
    cancelAnimationFrame(frame);
    frame = 0;
    document.removeEventListener("pointermove", onMove);
    document.removeEventListener("pointerup", onUp);
    document.removeEventListener("pointercancel", onUp);
    document.removeEventListener("keydown", onKey, true);
    document.removeEventListener("selectstart", noSelection);
    if (!ended.dragging) return;
    handlers.end(cancelled);
    // The click that follows the release is the end of the drag, not a click on what lies beneath.
    window.addEventListener("click", swallowClick, { capture: true, once: true });
    setTimeout(() => window.removeEventListener("click", swallowClick, { capture: true }), 0);
  }

  root.addEventListener("pointerdown", (event) => {
    if (press || !event.isPrimary || event.button !== 0) return;
    const source = handlers.source(event);
    if (!source) return;
    press = { source, id: event.pointerId, x: event.clientX, y: event.clientY, dragging: false };
    lastX = event.clientX;
    lastY = event.clientY;
    if (event.pointerType === "mouse") event.preventDefault(); // no text selection while dragging
    document.addEventListener("pointermove", onMove, { passive: false });
    document.addEventListener("pointerup", onUp);
    document.addEventListener("pointercancel", onUp);
    document.addEventListener("keydown", onKey, true);
    document.addEventListener("selectstart", noSelection);
  });
}

/* --- Ordering: the steps as a list to reorder; each select shows its step's place. */

function setUpOrdering(item) {
  const list = item.querySelector("[data-dd-list]");
  if (!list) return;
  const say = announcer(item);
  const rows = () => [...list.querySelectorAll(":scope > [data-dd-step]")];
  const selectOf = (row) => row.querySelector("select");
  const nameOf = (row) => textOf(row.querySelector("label"));
  const count = rows().length;

  // Steps that already have a position (an answer kept after an error, or saved earlier) start in
  // their places; the others fill the gaps in the order the server showed them.
  const places = new Array(count).fill(null);
  const rest = [];
  for (const row of rows()) {
    const position = Number(selectOf(row).value);
    if (Number.isInteger(position) && position >= 1 && position <= count && !places[position - 1]) {
      places[position - 1] = row;
    } else {
      rest.push(row);
    }
  }
  for (const row of places) list.append(row || rest.shift());
  // Until the learner moves a step, the item stays unanswered (empty selects), as without JavaScript.
  let answered = rows().every((row, index) => selectOf(row).value === String(index + 1));

  function refresh() {
    rows().forEach((row, index) => {
      row.querySelector('[data-dd-move="-1"]').setAttribute("aria-disabled", String(index === 0));
      row.querySelector('[data-dd-move="1"]').setAttribute("aria-disabled", String(index === count - 1));
    });
  }

  /** The list's order becomes the answer: every select shows its step's place, and says so. */
  function commit() {
    answered = true;
    const changed = [];
    rows().forEach((row, index) => {
      const select = selectOf(row);
      if (select.value !== String(index + 1)) {
        select.value = String(index + 1);
        changed.push(select);
      }
    });
    refresh();
    changed.forEach(notify);
  }

  function moved(row) {
    return fill(item.dataset.ddMoved, { step: nameOf(row), position: rows().indexOf(row) + 1, count });
  }

  /** Swap two steps by moving the others around `row`, which keeps its focus (a moved node loses it). */
  function swap(row, other) {
    const all = rows();
    const from = all.indexOf(row);
    const to = all.indexOf(other);
    const between = from < to ? all.slice(from + 1, to) : all.slice(to + 1, from).reverse();
    if (from < to) {
      row.before(other);
      between.forEach((step) => row.before(step));
    } else {
      row.after(other);
      between.forEach((step) => row.after(step));
    }
  }

  reveal(item, ".drag-handle, [data-dd-move]");
  refresh();

  // Move up / Move down: the keyboard's way to reorder, besides the selects.
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-dd-move]");
    if (!button) return;
    const row = button.closest("[data-dd-step]");
    const all = rows();
    const to = all.indexOf(row) + Number(button.dataset.ddMove);
    if (to < 0 || to >= count) {
      say(fill(to < 0 ? item.dataset.ddFirst : item.dataset.ddLast, { step: nameOf(row) }));
      return;
    }
    swap(row, all[to]);
    commit();
    if (document.activeElement !== button) button.focus();
    say(moved(row));
  });

  // A select works as "put this step in place n": it swaps places with the step that was there, so
  // setting every select in any order gives the order asked for, as the form means without JavaScript.
  list.addEventListener("change", (event) => {
    const select = event.target;
    if (!(select instanceof HTMLSelectElement)) return;
    const row = select.closest("[data-dd-step]");
    const all = rows();
    const from = all.indexOf(row);
    if (!select.value) {
      if (answered) {
        // A place cannot be emptied once the order is set: the select goes back to the step's place.
        select.value = String(from + 1);
        notify(select);
      }
      return;
    }
    const wanted = Number(select.value);
    if (answered && wanted === from + 1) return; // nothing to do (also the echo of commit's own events)
    const other = all[wanted - 1];
    let message = "";
    if (other && other !== row) {
      swap(row, other);
      message = fill(item.dataset.ddSwapped, {
        step: nameOf(row),
        position: wanted,
        other: nameOf(other),
        other_position: from + 1,
      });
    } else {
      message = moved(row);
    }
    commit();
    if (document.activeElement !== select) select.focus();
    say(message);
  });

  let dragged = null;
  let startIndex = 0;
  let grabOffset = 0;
  pointerDrag(list, {
    source(event) {
      const row = event.target.closest("[data-dd-step]");
      if (!row || event.target.closest("select, button, a, input")) return null;
      // A finger anywhere but the handle scrolls the page as usual.
      if (event.pointerType !== "mouse" && !event.target.closest(".drag-handle")) return null;
      return row;
    },
    start(row, x, y) {
      dragged = row;
      startIndex = rows().indexOf(row);
      grabOffset = y - row.getBoundingClientRect().top;
      row.classList.add("is-dragging");
      list.classList.add("is-sorting");
    },
    move(x, y) {
      const others = rows().filter((row) => row !== dragged);
      let index = 0;
      for (const other of others) {
        const box = other.getBoundingClientRect();
        if (y > box.top + box.height / 2) index += 1;
      }
      if (index !== rows().indexOf(dragged)) {
        if (others[index]) others[index].before(dragged);
        else list.append(dragged);
      }
      // The row follows the pointer from its new place in the list.
      dragged.style.transform = "";
      const restingTop = dragged.getBoundingClientRect().top;
      dragged.style.transform = `translateY(${Math.round(y - grabOffset - restingTop)}px)`;
    },
    end(cancelled) {
      const row = dragged;
      dragged = null;
      row.style.transform = "";
      row.classList.remove("is-dragging");
      list.classList.remove("is-sorting");
      if (cancelled) {
        const others = rows().filter((other) => other !== row);
        if (others[startIndex]) others[startIndex].before(row);
        else list.append(row);
        return;
      }
      if (rows().indexOf(row) !== startIndex) {
        commit();
        say(moved(row));
      }
    },
  });
}

/* --- Matching: the listed answers can be dropped onto a prompt, which sets that prompt's select. */

function setUpMatching(item) {
  const bank = item.querySelector("[data-dd-bank]");
  if (!bank) return;
  const say = announcer(item);
  reveal(item, "[data-dd-bank][hidden]");

  /** The prompt under the pointer; in the gaps of the prompts' list, the nearest prompt. */
  function targetAt(x, y) {
    const under = document.elementFromPoint(x, y);
    if (!under || !item.contains(under)) return null;
    const target = under.closest("[data-dd-target]");
    if (target || !under.matches(".pairs")) return target;
    let nearest = null;
    let distance = Infinity;
    for (const row of under.querySelectorAll("[data-dd-target]")) {
      const box = row.getBoundingClientRect();
      const away = Math.max(box.top - y, y - box.bottom, 0);
      if (away < distance) [nearest, distance] = [row, away];
    }
    return nearest;
  }

  function choose(target, choice) {
    const select = target.querySelector("select");
    if (!select || ![...select.options].some((option) => option.value === choice)) return;
    if (select.value !== choice) {
      select.value = choice;
      notify(select);
    }
    target.classList.add("just-matched");
    setTimeout(() => target.classList.remove("just-matched"), 1200);
    say(fill(item.dataset.ddMatched, { choice, prompt: textOf(target.querySelector("label")) }));
  }

  let card = null;
  let ghost = null;
  let target = null;
  let offsetX = 0;
  let offsetY = 0;
  pointerDrag(bank, {
    source: (event) => event.target.closest("[data-dd-choice]"),
    start(source, x, y) {
      card = source;
      const box = source.getBoundingClientRect();
      offsetX = x - box.left;
      offsetY = y - box.top;
      ghost = document.createElement("div");
      ghost.className = "dd-ghost";
      ghost.setAttribute("aria-hidden", "true");
      ghost.textContent = textOf(source);
      ghost.style.width = `${Math.ceil(box.width)}px`;
      document.body.append(ghost);
      card.classList.add("is-dragging");
    },
    move(x, y) {
      ghost.style.transform = `translate(${Math.round(x - offsetX)}px, ${Math.round(y - offsetY)}px)`;
      const over = targetAt(x, y);
      if (over !== target) {
        if (target) target.classList.remove("is-drop-target");
        target = over;
        if (target) target.classList.add("is-drop-target");
      }
    },
    end(cancelled) {
      ghost.remove();
      card.classList.remove("is-dragging");
      if (target) target.classList.remove("is-drop-target");
      if (!cancelled && target) choose(target, card.dataset.ddChoice);
      card = ghost = target = null;
    },
  });
}

for (const item of document.querySelectorAll("[data-dd]")) {
  if (item.dataset.ddReady) continue;
  item.dataset.ddReady = "true";
  if (item.dataset.dd === "ordering") setUpOrdering(item);
  else if (item.dataset.dd === "matching") setUpMatching(item);
}
