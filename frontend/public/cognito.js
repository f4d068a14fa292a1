// Sign-in against the Cognito user pool's JSON API, in plain browser JavaScript.
// Flows: SignUp, ConfirmSignUp, ResendConfirmationCode, InitiateAuth
// (USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH), ForgotPassword,
// ConfirmForgotPassword and sign out (GlobalSignOut). Not covered: SRP, the hosted UI, MFA.
// The tokens live in localStorage under the names the original frontend used
// (access_token) plus id_token and refresh_token.
(function () {
  "use strict";
  const config = window.CRUDDUR_CONFIG || {};
  const region = config.cognitoRegion || config.region || "us-east-1";
  const endpoint = config.cognitoEndpoint || "https://cognito-idp." + region + ".amazonaws.com/";
  // Refresh when the access token has less than this left.
  const MARGIN_SECONDS = 120;
  const KEYS = ["access_token", "id_token", "refresh_token"];

  class AuthError extends Error {
    constructor(code, message) { super(message || code); this.code = code; }
  }

  // One call to the user pool: unauthenticated, JSON 1.1, the operation in X-Amz-Target.
  async function call(op, body) {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService." + op,
      },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const code = String(data.__type || "HTTP " + res.status).split("#").pop();
      throw new AuthError(code, data.message || data.Message || code);
    }
    return data;
  }

  // The claims of a JWT, without verifying it (the backend verifies).
  function claims(jwt) {
    try {
      const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const text = decodeURIComponent(Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
      return JSON.parse(text);
    } catch (e) { return null; }
  }

  const store = window.localStorage;
  function save(result) {
    store.setItem("access_token", result.AccessToken);
    if (result.IdToken) store.setItem("id_token", result.IdToken);
    if (result.RefreshToken) store.setItem("refresh_token", result.RefreshToken);
  }
  function forget() { KEYS.forEach((k) => store.removeItem(k)); }

  // Sign out: GlobalSignOut revokes the refresh token at the pool, then the tokens
  // are dropped here. The local tokens go even when the pool refuses; its answer is
  // returned (null on success) for the page to show.
  async function signOut() {
    const token = store.getItem("access_token");
    let refused = null;
    if (token) {
      try { await call("GlobalSignOut", { AccessToken: token }); } catch (err) { refused = err; }
    }
    forget();
    return refused;
  }
  function signedIn() { return Boolean(store.getItem("refresh_token") || store.getItem("access_token")); }

  // The signed-in user from the id token: handle (preferred_username), name, email.
  function user() {
    const id = claims(store.getItem("id_token") || "");
    if (!id) return null;
    return { handle: id.preferred_username || id["cognito:username"], name: id.name, email: id.email };
  }

  async function signIn(username, password) {
    const data = await call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: config.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    if (!data.AuthenticationResult) {
      throw new AuthError(data.ChallengeName || "Challenge", "This account needs " + data.ChallengeName + ", which this frontend does not support.");
    }
    save(data.AuthenticationResult);
  }

  function signUp(username, password, attributes) {
    return call("SignUp", {
      ClientId: config.clientId,
      Username: username,
      Password: password,
      UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
    });
  }

  const confirmSignUp = (username, code) => call("ConfirmSignUp", { ClientId: config.clientId, Username: username, ConfirmationCode: code });
  const resendCode = (username) => call("ResendConfirmationCode", { ClientId: config.clientId, Username: username });
  const forgotPassword = (username) => call("ForgotPassword", { ClientId: config.clientId, Username: username });
  const confirmForgotPassword = (username, code, password) =>
    call("ConfirmForgotPassword", { ClientId: config.clientId, Username: username, ConfirmationCode: code, Password: password });

  // The access token for the next API call, refreshed first when it is missing or
  // near expiry. Null when not signed in. A refresh token the pool no longer takes
  // signs the user out and throws AuthError("SessionExpired").
  let refreshing = null;
  async function accessToken() {
    const current = store.getItem("access_token");
    const refresh = store.getItem("refresh_token");
    const exp = current && (claims(current) || {}).exp;
    if (current && exp && exp - Date.now() / 1000 > MARGIN_SECONDS) return current;
    if (!refresh) return current;
    refreshing = refreshing || call("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: config.clientId,
      AuthParameters: { REFRESH_TOKEN: refresh },
    }).then((data) => { save(data.AuthenticationResult); return data.AuthenticationResult.AccessToken; })
      .catch((err) => {
        if (err.code === "NotAuthorizedException") {
          forget();
          throw new AuthError("SessionExpired", "Your session has expired. Please sign in again.");
        }
        throw err;
      })
      .finally(() => { refreshing = null; });
    return refreshing;
  }

  window.CruddurAuth = {
    AuthError, endpoint, signIn, signUp, confirmSignUp, resendCode, forgotPassword, confirmForgotPassword,
    signOut, signedIn, user, accessToken,
  };
})();
