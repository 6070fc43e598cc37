// A read-only text box marked data-copy holds a link to pass on (a password link, a join link). Without
// this script people select and copy it themselves; with it, a "Copy" button next to the box copies it
// and says so in a live region, for screen readers too.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("input[data-copy]")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary copy-button";
    button.textContent = "Copy the link";
    box.insertAdjacentElement("afterend", button);
    box.addEventListener("focus", () => box.select());
    // The live region is added at the first copy, not before: until then a page's only status region is its
    // own (the message after a form), which people and tests find by its role.
    let said = null;
    const say = (words) => {
      if (said === null) {
        said = document.createElement("span");
        said.className = "copy-status";
        said.setAttribute("role", "status");
        button.insertAdjacentElement("afterend", said);
      }
      // Emptied, then filled a moment later: screen readers have the region before its words change, and a
      // second copy is announced again.
      said.textContent = "";
      setTimeout(() => { said.textContent = words; }, 100);
    };
    button.addEventListener("click", async () => {
      box.select();
      try {
        await navigator.clipboard.writeText(box.value);
        say("Copied. Paste it into a message.");
      } catch {
        // No clipboard access (an insecure page, or the browser refused): the link is selected instead.
        say("Selected: press Ctrl+C (or ⌘+C) to copy it.");
      }
    });
  }
});
