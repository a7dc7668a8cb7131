"use strict";
(function () {
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const submit = document.getElementById("login-submit");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const email = form.email.value.trim();
    const password = form.password.value;
    if (!email || !password) { error.textContent = "Enter your email and password."; return; }
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      const r = await fetch("/api/auth/login", {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({email, password}), credentials: "same-origin"});
      if (r.ok) {
        const body = await r.json();
        location.assign(body.user.role === "editor" ? "/editor" : "/console");
        return;
      }
      error.textContent = r.status === 429 ? "Too many attempts. Wait a minute and try again."
        : r.status === 401 ? "Wrong email or password." : "Could not sign in (" + r.status + ").";
    } catch (err) {
      error.textContent = "The server cannot be reached. Check your connection.";
    }
    submit.disabled = false;
    submit.textContent = "Sign in";
  });
})();
