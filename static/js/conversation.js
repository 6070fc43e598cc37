// A conversation opens at the patient's new line (the #now the server redirects to). Moving focus
// there as well means a screen reader reads that line next, instead of the page from the top; the
// page works the same without this script.
(function () {
  "use strict";
  if (window.location.hash !== "#now") return;
  var now = document.getElementById("now");
  if (now) now.focus();
})();
