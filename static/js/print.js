// Shows the Print buttons of printable pages and makes them open the browser's print dialog.
// Without JavaScript the buttons stay hidden and the page says to use the browser's Print command.
for (const button of document.querySelectorAll("button[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
