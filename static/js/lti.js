// LTI pages: send the deep linking response back to the platform at once (the button does it without
// script), and tell a platform that opened dynamic registration that it is done.
(function () {
  "use strict";
  var form = document.querySelector("form[data-auto-submit]");
  if (form) {
    form.submit();
  }
  if (document.querySelector("[data-lti-registered]")) {
    (window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
  }
})();
