// /compare: the district checkboxes fill the one `districts` parameter (a,b,c) the page reads.
(function () {
  "use strict";
  const form = document.getElementById("compare-form");
  if (!form) return;
  const hidden = form.querySelector("input[name=districts]");
  const boxes = [...form.querySelectorAll("input[type=checkbox]")];
  const sync = () => {
    hidden.value = boxes.filter((box) => box.checked).map((box) => box.value).join(",");
  };
  boxes.forEach((box) => box.addEventListener("change", sync));
  form.addEventListener("submit", sync);
})();
