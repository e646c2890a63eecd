/* competencymap web page: small progressive enhancement. Every page works without it.
 * - forms with data-target are sent with fetch; the server answers the part they replace
 * - forms with data-live search as you type (their results replace data-live-target)
 * - a running demand job's progress bar follows GET /jobs/{id} (postings mapped of those in all)
 * Texts come from the page (data-msg-* on <body>), never from this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var live = document.getElementById("live");
  var texts = document.body.dataset;

  function say(text) {
    if (!live) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text || ""; }, 30);
  }

  function replace(id, html) {
    var old = document.getElementById(id);
    if (!old) return null;
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    if (!fresh) return null;
    old.replaceWith(fresh);
    return fresh;
  }

  function focusAfter(fresh, submitter) {
    var again = null;
    if (submitter && submitter.dataset.testid) {
      again = fresh.querySelector('[data-testid="' + submitter.dataset.testid + '"]');
    }
    (again || fresh).focus();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.busy && !form.dataset.target) { say(form.dataset.busy); return; }
    if (!form.dataset.target || form.dataset.plain) return;
    event.preventDefault();
    var submitter = event.submitter || null;
    var body = new FormData(form, submitter);
    var target = form.dataset.target;
    var holder = document.getElementById(target);
    if (holder) holder.setAttribute("aria-busy", "true");
    say(form.dataset.busy || texts.msgSaving);
    fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Fragment": "1", "X-CSRF-Token": token }
    }).then(function (answer) {
      return answer.text().then(function (html) { return { answer: answer, html: html }; });
    }).then(function (got) {
      if (got.answer.headers.get("X-Fragment") !== "1") {
        form.dataset.plain = "1";  /* not a part of this page: let the browser show the whole answer */
        form.requestSubmit(submitter);
        return;
      }
      var fresh = replace(target, got.html);
      var counts = document.getElementById("tag-counts");
      if (fresh && counts && fresh.dataset.counts) counts.textContent = fresh.dataset.counts;
      if (fresh) focusAfter(fresh, submitter);
      say(got.answer.ok ? texts.msgSaved : (fresh && fresh.querySelector('[role="alert"]') || {}).textContent);
    }).catch(function () {
      if (holder) holder.removeAttribute("aria-busy");
      say(texts.msgFailed);
    });
  });

  /* search as you type */
  document.querySelectorAll("form[data-live]").forEach(function (form) {
    var timer = null;
    var running = null;
    function run() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, key) {
        if (typeof value === "string") params.append(key, value);
      });
      if (running) running.abort();
      running = new AbortController();
      fetch(form.dataset.live + "?" + params.toString(), {
        headers: { "X-Fragment": "1" }, credentials: "same-origin", signal: running.signal
      }).then(function (answer) { return answer.text(); })
        .then(function (html) { replace(form.dataset.liveTarget, html); })
        .catch(function () { /* a newer search replaced this one, or the network failed: the form still works */ });
    }
    form.addEventListener("input", function (event) {
      if (event.target.type === "file") return;
      window.clearTimeout(timer);
      timer = window.setTimeout(run, 250);
    });
    form.addEventListener("change", function (event) {
      if (event.target.tagName === "SELECT") run();
    });
  });

  /* a demand job's progress */
  var job = document.querySelector("[data-job]");
  if (job && (job.dataset.state === "queued" || job.dataset.state === "running")) {
    var bar = document.getElementById("job-progress");
    var note = document.getElementById("job-progress-text");
    var poll = function () {
      fetch("/jobs/" + job.dataset.job, { credentials: "same-origin" })
        .then(function (answer) { return answer.json(); })
        .then(function (status) {
          var p = status.progress || {};
          if (bar && typeof p.fraction === "number") bar.value = p.fraction;
          if (note && note.dataset.template && typeof p.postings_done === "number") {
            note.textContent = note.dataset.template.replace("{done}", String(p.postings_done))
              .replace("{total}", typeof p.postings_total === "number" ? String(p.postings_total) : "?");
          }
          if (status.state !== "queued" && status.state !== "running") {
            window.location.reload();
          } else {
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 700);
  }
})();
