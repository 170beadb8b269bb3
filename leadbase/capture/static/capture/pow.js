/* Leadbase proof of work (our own code, no dependencies).
 *
 * Finds a nonce such that SHA-256(challenge + ":" + nonce) starts with `bits` zero bits: the
 * server hands out a signed challenge and checks the answer with one hash. Solving runs in small
 * chunks while the visitor types, so the page stays responsive. A plain SHA-256 is included
 * because crypto.subtle is missing on plain-http pages and is too slow per call for this.
 */
window.LeadbasePow = window.LeadbasePow || (function () {
  "use strict";
  var K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);
  var w = new Int32Array(64);

  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

  /* The first two 32-bit words of SHA-256(text), for an ASCII `text`. */
  function hashHead(text) {
    var len = text.length, blocks = ((len + 8) >> 6) + 1, m = new Int32Array(blocks * 16), i, j;
    for (i = 0; i < len; i++) { m[i >> 2] |= text.charCodeAt(i) << (24 - (i & 3) * 8); }
    m[len >> 2] |= 0x80 << (24 - (len & 3) * 8);
    m[blocks * 16 - 1] = len * 8;
    var h0 = 0x6a09e667, h1 = 0xbb67ae85 | 0, h2 = 0x3c6ef372, h3 = 0xa54ff53a | 0,
        h4 = 0x510e527f, h5 = 0x9b05688c | 0, h6 = 0x1f83d9ab, h7 = 0x5be0cd19;
    for (j = 0; j < blocks; j++) {
      for (i = 0; i < 16; i++) { w[i] = m[j * 16 + i]; }
      for (i = 16; i < 64; i++) {
        var x = w[i - 15], y = w[i - 2];
        w[i] = (w[i - 16] + (rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3)) + w[i - 7] + (rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10))) | 0;
      }
      var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
      for (i = 0; i < 64; i++) {
        var t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
    }
    return [h0 >>> 0, h1 >>> 0];
  }

  function solves(head, bits) {
    if (bits <= 32) { return (head[0] >>> (32 - bits)) === 0; }
    return head[0] === 0 && (head[1] >>> (64 - bits)) === 0;
  }

  /* A promise of the nonce (as text) for `challenge`. */
  function solve(challenge, bits) {
    return new Promise(function (resolve) {
      var nonce = 0, prefix = challenge + ":";
      (function chunk() {
        for (var end = nonce + 4000; nonce < end; nonce++) {
          if (solves(hashHead(prefix + nonce), bits)) { resolve(String(nonce)); return; }
        }
        setTimeout(chunk, 0);
      })();
    });
  }

  /* Solve a server-rendered form's challenge now; hold its submit until the answer is in. */
  function attach(form) {
    var nonceInput = form.querySelector('input[name="lb_nonce"]');
    var done = solve(form.getAttribute("data-lb-pow"), +form.getAttribute("data-lb-pow-bits"))
      .then(function (nonce) { nonceInput.value = nonce; });
    form.addEventListener("submit", function (event) {
      if (nonceInput.value) { return; }
      event.preventDefault();
      var button = form.querySelector('button[type="submit"]');
      if (button) { button.disabled = true; button.textContent = "Checking…"; }
      done.then(function () { form.submit(); });
    });
    return done;
  }

  var forms = document.querySelectorAll("form[data-lb-pow]");
  for (var i = 0; i < forms.length; i++) { attach(forms[i]); }
  return { hashHead: hashHead, solve: solve, attach: attach };
})();
