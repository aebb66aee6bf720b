/* Live updates, progressive: an element with data-live-source (a Server-Sent Events stream)
   and data-live-fragment (its HTML) is refetched into itself when the stream names a change.
   Events carry ids only; the fragment is fetched like any page, with the reader's access.
   Without this script, the pages still work (the board reloads every 30 s). */
(function () {
  "use strict";
  var RETRY_MS = 5000;
  // Some of what a fragment shows is read from indexes written just after the record whose
  // change is announced: look once more when the changes have settled, so the last one is
  // never missed.
  var SETTLE_MS = 750;

  function follow(region) {
    var source = region.getAttribute("data-live-source");
    var fragment = region.getAttribute("data-live-fragment");
    var busy = false, again = false, waiting = false;

    // Never pull the page from under someone filling in a form in it: wait till they leave.
    function inUse() {
      return region.contains(document.activeElement) && document.activeElement !== document.body;
    }
    function afterLeaving() {
      if (waiting) { return; }
      waiting = true;
      region.addEventListener("focusout", function later() {
        region.removeEventListener("focusout", later);
        waiting = false;
        setTimeout(refetch, 0);
      });
    }

    function refetch() {
      if (inUse()) { afterLeaving(); return; }
      if (busy) { again = true; return; }
      busy = true;
      fetch(fragment, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (response.redirected || !response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          // They may have started on a form while this was fetched: keep what they see.
          if (inUse()) { afterLeaving(); return; }
          region.innerHTML = html;
        })
        .catch(function () { /* keep what is shown; the next change tries again */ })
        .then(function () {
          busy = false;
          if (again) { again = false; refetch(); }
        });
    }

    var settle = null;
    function changed() {
      refetch();
      if (settle !== null) { clearTimeout(settle); }
      settle = setTimeout(function () { settle = null; refetch(); }, SETTLE_MS);
    }

    function connect() {
      var stream = new EventSource(source);
      // What changed between the server rendering the page and the stream opening was told to
      // nobody: catch up once it is open (and after the browser reconnects by itself).
      stream.addEventListener("open", refetch);
      stream.addEventListener("incident", changed);
      stream.addEventListener("task", changed);
      stream.onerror = function () {
        // The browser retries by itself unless the stream was refused or ended: then we do.
        if (stream.readyState === EventSource.CLOSED) {
          stream.close();
          setTimeout(function () { connect(); refetch(); }, RETRY_MS);
        }
      };
    }
    connect();
  }

  function start() {
    var regions = document.querySelectorAll("[data-live-source][data-live-fragment]");
    for (var i = 0; i < regions.length; i += 1) { follow(regions[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
