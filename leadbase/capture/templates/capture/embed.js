{% autoescape off %}/* Leadbase embeddable form (our own code, no dependencies, no cookies).
 *
 * Rendered by /f/<slug>/embed.js with the form definition (JSON, "</" escaped) after pow.js.
 * Renders the form where its <script> tag is, posts it as JSON with fetch (CORS: the site's
 * origin must be one of the form's allowed origins), then shows the thank-you message or
 * follows the redirect. The definition carries a fresh fill-time token.
 */
{{ pow_js }}
(function () {
  "use strict";
  var def = {{ definition }};
  var script = document.currentScript ||
    document.querySelector('script[src*="/f/' + def.slug + '/embed.js"]');
  var host = document.createElement("div");
  host.className = "lb-embed";
  script.parentNode.insertBefore(host, script);

  /* On a site that is not one of the form's allowed origins the browser would refuse every post
   * (CORS): say so, to the visitor politely and to the site's developer in the console. */
  if (def.origins.indexOf(location.origin) < 0) {
    var note = document.createElement("p");
    note.className = "lb-unavailable";
    note.setAttribute("role", "note");
    note.textContent = "This form is not available on this site.";
    host.appendChild(note);
    console.error("Leadbase: the form \u201c" + def.slug + "\u201d may not be posted from " +
      location.origin + ". Add " + location.origin + " to the form's allowed origins in Leadbase.");
    return;
  }

  if (!document.getElementById("lb-embed-style")) {
    var style = document.createElement("style");
    style.id = "lb-embed-style";
    style.textContent =
      ".lb-embed{max-width:32rem;font:inherit}.lb-embed .lb-field{margin:0 0 .9rem}" +
      ".lb-embed label{display:block;font-weight:600;margin:0 0 .25rem}" +
      ".lb-embed .lb-check{display:flex;gap:.5rem;font-weight:400}.lb-embed .lb-check input{margin-top:.3rem}" +
      ".lb-embed input[type=text],.lb-embed input[type=email],.lb-embed input[type=tel],.lb-embed select,.lb-embed textarea" +
      "{box-sizing:border-box;width:100%;padding:.55rem .65rem;font:inherit;border:1px solid #c9d0d9;border-radius:6px}" +
      ".lb-embed .lb-error{color:#b42318;margin:.25rem 0 0;font-size:.92em}" +
      ".lb-embed .lb-hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}" +
      ".lb-embed button{padding:.65rem 1.2rem;font:inherit;font-weight:600;color:#fff;background:#2456d6;border:0;border-radius:6px;cursor:pointer}" +
      ".lb-embed button[disabled]{opacity:.7}";
    document.head.appendChild(style);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs) { if (attrs[k] !== null && attrs[k] !== false) { node.setAttribute(k, attrs[k] === true ? "" : attrs[k]); } }
    if (text) { node.textContent = text; }
    return node;
  }

  var form = el("form", { "class": "lb-form", method: "post", action: def.action });
  var inputs = {};
  var uid = "lb-" + def.slug + "-" + Math.random().toString(36).slice(2, 7) + "-";

  function addCheck(key, text, required) {
    var wrap = el("div", { "class": "lb-field" }), label = el("label", { "class": "lb-check" });
    var box = el("input", { type: "checkbox", name: key, id: uid + key, required: required });
    label.appendChild(box);
    label.appendChild(el("span", {}, text));
    wrap.appendChild(label);
    form.appendChild(wrap);
    inputs[key] = box;
  }

  def.fields.forEach(function (f) {
    if (f.type === "checkbox") { addCheck(f.key, f.label, f.required); return; }
    var wrap = el("div", { "class": "lb-field" }), input;
    wrap.appendChild(el("label", { "for": uid + f.key }, f.label + (f.required ? "" : " (optional)")));
    if (f.type === "textarea") {
      input = el("textarea", { rows: 4, maxlength: 5000 });
    } else if (f.type === "select") {
      input = el("select", {});
      input.appendChild(el("option", { value: "" }, "Choose…"));
      f.options.forEach(function (o) { input.appendChild(el("option", { value: o }, o)); });
    } else {
      input = el("input", { type: f.type === "email" ? "email" : f.type === "phone" ? "tel" : "text",
                            maxlength: f.type === "email" ? 320 : f.type === "phone" ? 64 : 200 });
    }
    input.name = f.key;
    input.id = uid + f.key;
    input.required = !!f.required;
    wrap.appendChild(input);
    form.appendChild(wrap);
    inputs[f.key] = input;
  });
  def.consents.forEach(function (c) { addCheck("consent_" + c.purpose, c.text, c.required); });

  var trap = el("div", { "class": "lb-hp", "aria-hidden": "true" });
  trap.appendChild(el("label", { "for": uid + def.honeypot }, "Fax"));
  var honeypot = el("input", { type: "text", name: def.honeypot, id: uid + def.honeypot, tabindex: "-1", autocomplete: "off" });
  trap.appendChild(honeypot);
  form.appendChild(trap);
  var status = el("p", { "class": "lb-error", role: "alert" });
  var button = el("button", { type: "submit" }, "Send");
  form.appendChild(status);
  form.appendChild(button);
  host.appendChild(form);

  var pow = null;
  function startPow(challenge) {
    pow = { challenge: challenge, nonce: window.LeadbasePow.solve(challenge, def.pow.bits) };
  }
  if (def.pow) { startPow(def.pow.challenge); }

  function clearErrors() {
    status.textContent = "";
    var old = form.querySelectorAll(".lb-field .lb-error");
    for (var i = 0; i < old.length; i++) { old[i].parentNode.removeChild(old[i]); }
    for (var key in inputs) {
      inputs[key].removeAttribute("aria-invalid");
      inputs[key].removeAttribute("aria-describedby");
    }
  }

  /* As the server-rendered form does: each input at fault (``errors`` lists them all, else the
   * one ``field``) is marked invalid and described by its error, so a screen reader reads the
   * message when the focus lands on it; the focus goes to the first of them in the form. */
  function showError(body) {
    var list = body.errors || [{ field: body.field, error: body.error }], marked = {}, elsewhere = [];
    list.forEach(function (e) {
      var target = e.field && inputs[e.field];
      if (!target) { elsewhere.push(e.error); return; }
      var wrap = target.closest(".lb-field"), id = target.id + "-error";
      wrap.appendChild(el("p", { "class": "lb-error", id: id }, e.error));
      target.setAttribute("aria-invalid", "true");
      target.setAttribute("aria-describedby", id);
      marked[e.field] = true;
    });
    for (var key in inputs) {
      if (marked[key]) { inputs[key].focus(); break; }
    }
    if (elsewhere.length || !Object.keys(marked).length) {
      status.textContent = elsewhere.join(" ") || body.error || "The form could not be sent.";
    }
  }

  function payload(nonce) {
    var data = { lb_ts: def.token, lb_page: location.href, lb_referrer: document.referrer };
    data[def.honeypot] = honeypot.value;
    for (var key in inputs) {
      data[key] = inputs[key].type === "checkbox" ? inputs[key].checked : inputs[key].value;
    }
    if (pow) { data.lb_pow = pow.challenge; data.lb_nonce = nonce; }
    return data;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    button.disabled = true;
    (pow ? pow.nonce : Promise.resolve(""))
      .then(function (nonce) {
        return fetch(def.action, {
          method: "POST", mode: "cors", credentials: "omit",
          headers: { "Content-Type": "application/json", "Accept": "application/json" },
          body: JSON.stringify(payload(nonce))
        });
      })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (result.ok) {
          if (result.body.redirect) { window.location.href = result.body.redirect; return; }
          var thanks = el("div", { "class": "lb-thanks", role: "status" });
          thanks.appendChild(el("p", {}, result.body.message));
          if (result.body.note) { thanks.appendChild(el("p", { "class": "lb-note" }, result.body.note)); }
          host.replaceChildren(thanks);
          return;
        }
        showError(result.body);
        button.disabled = false;
        if (def.pow) {  // the challenge was spent: fetch a fresh one for the next try
          fetch(def.action + ".json", { mode: "cors", credentials: "omit" })
            .then(function (r) { return r.json(); })
            .then(function (fresh) { startPow(fresh.pow.challenge); });
        }
      })
      .catch(function () {
        status.textContent = "The form could not be sent. Please try again later.";
        button.disabled = false;
      });
  });
})();
{% endautoescape %}
