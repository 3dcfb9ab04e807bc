// Photo uploads: drag and drop or the file picker, one request per file, each with its own
// progress bar. Without this file the form still works as a plain multipart post.
(function () {
  "use strict";

  var PARALLEL = 3;

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "") + " MB";
  }

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  // The plain-words error the server put in its #upload-errors fragment.
  function messageFrom(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var box = doc.getElementById("upload-errors");
    var text = box ? box.textContent.replace(/\s+/g, " ").trim() : "";
    return text || "This photo could not be added.";
  }

  function messageForStatus(status) {
    if (status === 403) return "Your session has expired. Reload the page and try again.";
    if (status === 413) return "This file is too large to upload.";
    if (status === 429) return "Too many uploads at once. Wait a moment and try again.";
    if (status === 400) return "The upload could not be read. Try again with this photo alone.";
    return "Something went wrong on our side. Please try again.";
  }

  function init() {
    var form = document.getElementById("photo-upload");
    var queue = document.getElementById("upload-queue");
    if (!form || !queue || !window.FormData || !window.XMLHttpRequest || !window.DOMParser) return;
    var input = form.querySelector('input[type="file"]');
    var token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    var maxBytes = parseInt(form.getAttribute("data-max-bytes") || "0", 10);
    var waiting = [];
    var running = 0;
    var uploadedSome = false;

    form.classList.add("is-enhanced");

    function createItem(file) {
      var item = document.createElement("li");
      item.className = "upload-item";
      var preview = document.createElement("div");
      preview.className = "upload-preview";
      if (/^image\/(jpeg|png|webp)$/.test(file.type) && window.URL && URL.createObjectURL) {
        var img = document.createElement("img");
        img.alt = "";
        img.src = URL.createObjectURL(file);
        img.onload = function () { URL.revokeObjectURL(img.src); };
        img.onerror = function () { URL.revokeObjectURL(img.src); img.remove(); };
        preview.appendChild(img);
      }
      var info = document.createElement("div");
      info.className = "upload-info";
      var name = document.createElement("p");
      name.className = "upload-name";
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Uploading " + file.name);
      var status = document.createElement("p");
      status.className = "upload-status";
      status.setAttribute("role", "status");
      status.textContent = "Waiting…";
      info.appendChild(name);
      info.appendChild(bar);
      info.appendChild(status);
      item.appendChild(preview);
      item.appendChild(info);
      queue.appendChild(item);
      return { item: item, bar: bar, status: status, file: file };
    }

    function fail(job, message, retry) {
      job.item.classList.add("is-error");
      job.bar.hidden = true;
      job.status.textContent = message;
      var actions = document.createElement("div");
      actions.className = "upload-actions";
      if (retry) {
        var again = document.createElement("button");
        again.type = "button";
        again.className = "secondary outline";
        again.textContent = "Try again";
        again.addEventListener("click", function () {
          job.item.remove();
          enqueue([job.file]);
        });
        actions.appendChild(again);
      }
      var dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "secondary outline";
      dismiss.textContent = "Dismiss";
      dismiss.setAttribute("aria-label", "Dismiss " + job.file.name);
      dismiss.addEventListener("click", function () { job.item.remove(); });
      actions.appendChild(dismiss);
      job.item.appendChild(actions);
    }

    function succeed(job, html) {
      job.bar.value = 100;
      job.status.textContent = "Uploaded. Checking it now…";
      job.item.classList.add("is-done");
      if (window.htmx) {
        window.htmx.swap("#photo-set", html, { swapStyle: "outerHTML" });
      }
      setTimeout(function () { job.item.remove(); }, 1200);
    }

    function send(job) {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", token);
      data.append("photos", job.file, job.file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("HX-Request", "true");
      xhr.setRequestHeader("X-CSRFToken", token);
      job.status.textContent = "Uploading…";
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) job.bar.value = Math.round((event.loaded / event.total) * 100);
      });
      xhr.addEventListener("load", function () {
        running--;
        if (xhr.status >= 200 && xhr.status < 300) {
          uploadedSome = true;
          succeed(job, xhr.responseText);
        } else if (xhr.status === 422) {
          fail(job, messageFrom(xhr.responseText), false);
        } else {
          fail(job, messageForStatus(xhr.status), xhr.status >= 500);
        }
        pump();
      });
      xhr.addEventListener("error", function () {
        running--;
        fail(job, "The upload did not get through. Check your connection and try again.", true);
        pump();
      });
      xhr.send(data);
    }

    function pump() {
      while (running < PARALLEL && waiting.length) {
        running++;
        send(waiting.shift());
      }
      if (!running && !waiting.length && uploadedSome) {
        uploadedSome = false;
        // Responses can arrive out of order: fetch the final state of the set once.
        if (window.htmx) window.htmx.trigger(document.body, "photos:refresh");
        else window.location.reload();
      }
    }

    function enqueue(files) {
      Array.prototype.forEach.call(files || [], function (file) {
        var job = createItem(file);
        if (maxBytes && file.size > maxBytes) {
          fail(job, "This file is " + megabytes(file.size) + ", over the " + megabytes(maxBytes) +
            " limit for one photo. Add a smaller copy.", false);
          return;
        }
        waiting.push(job);
      });
      pump();
    }

    input.addEventListener("change", function () {
      enqueue(input.files);
      input.value = "";
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      enqueue(input.files);
      input.value = "";
    });

    // Dropping files anywhere on the page adds them; the zone lights up while files hover.
    var depth = 0;
    document.addEventListener("dragenter", function (event) {
      if (!hasFiles(event)) return;
      depth++;
      form.classList.add("is-dragging");
    });
    document.addEventListener("dragleave", function (event) {
      if (!hasFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (!depth) form.classList.remove("is-dragging");
    });
    document.addEventListener("dragover", function (event) {
      if (hasFiles(event)) event.preventDefault();
    });
    document.addEventListener("drop", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      form.classList.remove("is-dragging");
      enqueue(event.dataTransfer.files);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
