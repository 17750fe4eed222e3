// The page's own script, loaded before textual-serve's: it shows why a session ended (the
// reason the server gave when it closed the WebSocket), and makes the buttons start a new
// session. No inline script or event handler is needed, so the page's
// Content-Security-Policy allows scripts from the portal itself only.
"use strict";

(() => {
  const NativeWebSocket = window.WebSocket;

  function showEnding(event) {
    const ended = document.getElementById("ended");
    if (ended && event.reason) {
      ended.textContent = event.reason;
    }
  }

  class PortalWebSocket extends NativeWebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener("close", showEnding);
    }
  }
  window.WebSocket = PortalWebSocket;

  function startAgain() {
    const params = new URLSearchParams(window.location.search);
    params.delete("delay");
    const query = params.toString();
    window.location.href = window.location.pathname + (query ? "?" + query : "");
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("button.restart")) {
      button.addEventListener("click", startAgain);
    }
  });
})();
