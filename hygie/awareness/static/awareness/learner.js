// Enhancement of the "spot the signs" step: touching a passage of the e-mail ticks the matching
// box (the boxes below work without JavaScript and remain the accessible way to answer).
document.addEventListener("DOMContentLoaded", function () {
  var body = document.querySelector(".mail-body[data-pickable]");
  if (!body) return;
  function box(id) {
    return document.querySelector('input[type=checkbox][data-sign="' + CSS.escape(id) + '"]');
  }
  function paint(id, on) {
    body.querySelectorAll('mark[data-sign="' + CSS.escape(id) + '"]').forEach(function (mark) {
      mark.classList.toggle("picked", on);
    });
  }
  body.addEventListener("click", function (event) {
    var mark = event.target.closest("mark[data-sign]");
    if (!mark) return;
    var input = box(mark.dataset.sign);
    if (!input) return;
    event.preventDefault();
    input.checked = !input.checked;
    paint(mark.dataset.sign, input.checked);
  });
  document.querySelectorAll("input[type=checkbox][data-sign]").forEach(function (input) {
    input.addEventListener("change", function () { paint(input.dataset.sign, input.checked); });
  });
});
