"use strict";
// The admin's side menu starts folded in a window narrower than 1600 px, where it would push a
// list's columns out of sight; its « button opens it, and Django's own script keeps that choice.
// Below 768 px Django shows no side menu, so nothing is decided there.
if (localStorage.getItem("django.admin.navSidebarIsOpen") === null && window.innerWidth >= 768
    && window.innerWidth < 1600) {
  localStorage.setItem("django.admin.navSidebarIsOpen", "false");
}
