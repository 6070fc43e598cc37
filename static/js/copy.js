// A read-only text box marked data-copy holds a link to pass on (a password link, a join link). Without
// this script people select and copy it themselves; with it, a "Copy" button next to the box copies it
// and says so in a live region, for screen readers too.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("input[data-copy]")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary copy-button";
    button.textContent = "Copy the link";
    const said = document.createElement("span");
    said.className = "copy-status";
    said.setAttribute("role", "status");
    box.insertAdjacentElement("afterend", said);
    box.insertAdjacentElement("afterend", button);
    box.addEventListener("focus", () => box.select());
    button.addEventListener("click", async () => {
      box.select();
      try {
        await navigator.clipboard.writeText(box.value);
        said.textContent = "Copied. Paste it into a message.";
      } catch {
        // No clipboard access (an insecure page, or the browser refused): the link is selected instead.
        said.textContent = "Selected: press Ctrl+C (or ⌘+C) to copy it.";
      }
    });
  }
});
