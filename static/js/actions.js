// Page actions declared in the markup, so that the Content-Security-Policy needs no inline handler:
// <form data-confirm="Question ?"> asks before submitting; <button data-print> prints the page;
// <form data-retry-after="N"> (a booking the server could not take yet) is sent again by itself after N
// seconds, counting down in the [data-countdown] element of the page.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) {
      window.print();
    }
  });
  var waiting = document.querySelector("form[data-retry-after]");
  if (waiting) {
    var left = Math.max(1, parseInt(waiting.getAttribute("data-retry-after"), 10) || 1);
    var countdown = document.querySelector("[data-countdown]");
    var timer = window.setInterval(function () {
      left -= 1;
      if (countdown) {
        countdown.textContent = String(Math.max(left, 0));
      }
      if (left <= 0) {
        window.clearInterval(timer);
        if (waiting.requestSubmit) {
          waiting.requestSubmit();
        } else {
          waiting.submit();
        }
      }
    }, 1000);
  }
})();
