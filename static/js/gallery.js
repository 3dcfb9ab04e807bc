// The gallery's lightbox: full-size images with their likeness in words and the prompt, arrow keys
// (or a swipe on a touch screen) to move, Escape to close. The image shown is in the address
// (#view-<image id>), so a reload or a link opens it again and the browser's Back closes it.
// Without JavaScript every thumbnail is a plain link to the full image.
(function () {
  "use strict";
  var dialog, links = [], index = 0, opener = null;
  var VIEW = /^#view-([0-9a-f-]+)$/;

  function imageId(link) {
    return link.closest(".image-tile").id.replace(/^image-/, "");
  }

  function linkInAddress() {
    var match = VIEW.exec(location.hash);
    var tile = match && document.getElementById("image-" + match[1]);
    return tile ? tile.querySelector(".lightbox-link") : null;
  }

  function show(i) {
    links = Array.prototype.slice.call(document.querySelectorAll("#gallery .lightbox-link"));
    if (!links.length) return;
    index = (i + links.length) % links.length;
    var link = links[index];
    var img = dialog.querySelector(".lightbox-image");
    img.src = link.getAttribute("href");
    img.alt = link.querySelector("img") ? link.querySelector("img").alt : "";
    dialog.querySelector(".lightbox-title").textContent = link.dataset.title || "";
    var likeness = link.dataset.likeness ? link.dataset.likeness + " · " : "";
    dialog.querySelector(".lightbox-caption").textContent = likeness + (link.dataset.caption || "");
    dialog.querySelector(".lightbox-download").href = link.dataset.download || link.getAttribute("href");
    dialog.querySelector(".lightbox-edit").href = link.dataset.edit;
    showFavourite();
    var address = "#view-" + imageId(link);
    if (dialog.open && location.hash !== address) history.replaceState(history.state, "", address);
  }

  // The favourite button mirrors the tile's own favourite form, and pressing it submits that form.
  function tileForm() {
    var tile = links[index] && links[index].closest(".image-tile");
    return tile ? tile.querySelector(".favourite-form") : null;
  }

  function showFavourite() {
    var form = tileForm(), button = dialog.querySelector(".lightbox-favourite");
    if (!button) return;
    button.hidden = !form;
    if (!form) return;
    var on = form.querySelector("button").getAttribute("aria-pressed") === "true";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.classList.toggle("is-favourite", on);
    button.querySelector("span").textContent = on ? "★" : "☆";
  }

  // Opened by a click, it adds an entry to the history (Back closes it); opened by the address,
  // it is that entry already.
  function open(link, fromAddress) {
    if (!dialog.open && !fromAddress) history.pushState({ lightbox: true }, "", "#view-" + imageId(link));
    opener = link;
    links = Array.prototype.slice.call(document.querySelectorAll("#gallery .lightbox-link"));
    if (!dialog.open) dialog.showModal();
    show(links.indexOf(link));
  }

  document.addEventListener("DOMContentLoaded", function () {
    dialog = document.getElementById("lightbox");
    if (!dialog || typeof dialog.showModal !== "function") return;

    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("#gallery .lightbox-link");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      open(link);
    });
    dialog.addEventListener("click", function (event) {
      var action = event.target.closest("[data-lightbox]");
      if (event.target === dialog) dialog.close();
      if (!action) return;
      var what = action.dataset.lightbox;
      if (what === "close") dialog.close();
      if (what === "prev") show(index - 1);
      if (what === "next") show(index + 1);
      if (what === "favourite" && tileForm()) tileForm().requestSubmit();
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      if (dialog.open) showFavourite();
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") { event.preventDefault(); show(index - 1); }
      if (event.key === "ArrowRight") { event.preventDefault(); show(index + 1); }
    });
    // A finger moved sideways across the image, further than it moved up or down: on to the next
    // image (leftwards) or back to the previous one.
    var swipe = null, image = dialog.querySelector(".lightbox-image");
    image.addEventListener("pointerdown", function (event) {
      swipe = event.pointerType === "mouse" || !event.isPrimary ? null : { x: event.clientX, y: event.clientY };
    });
    image.addEventListener("pointercancel", function () { swipe = null; });
    image.addEventListener("pointerup", function (event) {
      if (!swipe) return;
      var dx = event.clientX - swipe.x, dy = event.clientY - swipe.y;
      swipe = null;
      if (Math.abs(dx) >= 50 && Math.abs(dx) > 2 * Math.abs(dy)) show(index + (dx < 0 ? 1 : -1));
    });
    dialog.addEventListener("close", function () {
      if (dialog.open) return;  // opened again (by Forward) before this close was reported
      dialog.querySelector(".lightbox-image").src = "";
      if (opener && document.body.contains(opener)) opener.focus();
      if (!VIEW.test(location.hash)) return;  // closed by Back: the address has moved on already
      if (history.state && history.state.lightbox) history.back();
      else history.replaceState(history.state, "", location.pathname + location.search);
    });
    window.addEventListener("popstate", function () {
      var link = linkInAddress();
      if (link) open(link, true);
      else if (dialog.open) dialog.close();
    });
    var linked = linkInAddress();
    if (linked) open(linked, true);
  });
})();
