// The live dashboard: plain JavaScript that the browser runs as it is, with
// no build step and no libraries. It uses the same API as /docs does, and
// listens on WS /ws/tasks for changes to our tasks, made here or anywhere else.
"use strict";

// The token is kept per browser tab: sessionStorage is forgotten when the tab closes.
const TOKEN_KEY = "task-manager-token";
const RECONNECT_DELAY_MS = 2000;
const HEARTBEAT_MS = 20000; // well within the server's idle timeout (60 s by default)

const $ = (id) => document.getElementById(id);
let socket = null; // the live feed, while it is open
let listRequests = 0; // counts task-list requests, so that only the newest one is drawn

function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

// ---- talking to the API ---------------------------------------------------

// Send a request with our token; answer the JSON body, or throw an Error
// whose message a person can read.
async function api(method, path, { json, form } = {}) {
  const headers = {};
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  if (form !== undefined) {
    body = new URLSearchParams(form); // sent as application/x-www-form-urlencoded
  }
  const token = getToken();
  if (token) {
    headers.Authorization = `Bearer ${token}`;
  }
  const response = await fetch(path, { method, headers, body });
  if (response.status === 401 && token) {
    logOut(); // the token has expired, or the server restarted with another key
    throw new Error("your session has ended, please log in again");
  }
  if (!response.ok) {
    throw new Error(await describeError(response));
  }
  return response.status === 204 ? null : response.json();
}

// FastAPI answers {"detail": "..."} for most errors, and a list of problems for a 422.
async function describeError(response) {
  const body = await response.json().catch(() => null);
  const detail = body && body.detail;
  if (typeof detail === "string") {
    return detail;
  }
  if (Array.isArray(detail)) {
    // loc is where the problem is, e.g. ["body", "password"]: keep the field's name.
    return detail.map((problem) => `${problem.loc.slice(1).join(".")}: ${problem.msg}`).join("; ");
  }
  return `the server answered ${response.status}`;
}

// ---- what the page shows --------------------------------------------------

function showMessage(text) {
  $("message").textContent = text;
}

// Run something the user asked for; if it fails, say so in words.
async function act(what, action) {
  showMessage("");
  try {
    await action();
  } catch (error) {
    showMessage(`${what}: ${error.message}`);
  }
}

function showLoggedIn(loggedIn) {
  $("login-section").hidden = loggedIn;
  $("tasks-section").hidden = !loggedIn;
  $("events-section").hidden = !loggedIn;
  $("who").hidden = !loggedIn;
}

function setLiveStatus(text) {
  $("live-status").textContent = text;
}

function taskItem(task) {
  const item = document.createElement("li");
  item.dataset.testid = "task";
  item.dataset.taskId = task.id;
  item.classList.toggle("done", task.completed);

  const done = document.createElement("input");
  done.type = "checkbox";
  done.id = `task-${task.id}-done`;
  done.checked = task.completed;
  done.addEventListener("change", () =>
    act("Could not change the task", async () => {
      await api("PATCH", `/tasks/${task.id}`, { json: { completed: done.checked } });
      await loadTasks();
    }),
  );

  const title = document.createElement("label");
  title.dataset.testid = "task-title";
  title.htmlFor = done.id;
  title.textContent = task.title; // textContent, never innerHTML: a title is text, not HTML

  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = "Delete";
  remove.setAttribute("aria-label", `Delete "${task.title}"`);
  remove.addEventListener("click", () =>
    act("Could not delete the task", async () => {
      await api("DELETE", `/tasks/${task.id}`);
      await loadTasks();
    }),
  );

  item.append(done, title, remove);
  return item;
}

async function loadTasks() {
  const ticket = ++listRequests;
  const tasks = await api("GET", "/tasks/");
  if (ticket !== listRequests) {
    return; // a newer list was asked for meanwhile: draw that one instead
  }
  $("task-list").replaceChildren(...tasks.map(taskItem));
  $("no-tasks").hidden = tasks.length > 0;
}

function addEvent(text) {
  const item = document.createElement("li");
  item.dataset.testid = "event";
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("events").prepend(item); // newest first
}

// ---- the live feed --------------------------------------------------------

// The server sends one line of text for each change to our tasks. We show it,
// and fetch the list again: the event says what happened, the list what is.
// --8<-- [start:live-feed]
function connectLive() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // A browser cannot put a header on a WebSocket, so the token goes in the URL.
  const ws = new WebSocket(
    `${scheme}://${location.host}/ws/tasks?token=${encodeURIComponent(getToken())}`,
  );
  socket = ws;
  setLiveStatus("connecting");
  // Say "ping" now and then: the server lets a silent socket go.
  const heartbeat = setInterval(() => {
    if (ws.readyState === WebSocket.OPEN) {
      ws.send("ping");
    }
  }, HEARTBEAT_MS);
  ws.addEventListener("open", () => setLiveStatus("connected"));
  ws.addEventListener("message", (event) => {
    if (event.data === "pong") {
      return; // the answer to our heartbeat, not an event
    }
    addEvent(event.data);
    loadTasks().catch((error) => showMessage(`Could not refresh the tasks: ${error.message}`));
  });
  ws.addEventListener("close", (event) => {
    clearInterval(heartbeat);
    if (socket !== ws) {
      return; // we closed it ourselves, on logging out
    }
    socket = null;
    if (event.code === 1008) {
      // 1008 "policy violation": the server did not accept our token.
      logOut();
      showMessage("The live feed did not accept your token: please log in again.");
      return;
    }
    if (event.code === 4429) {
      // Too many open tabs: trying again would only be refused again.
      setLiveStatus("offline");
      showMessage(`The live feed refused this tab: ${event.reason}. Close another tab, then reload this one.`);
      return;
    }
    setLiveStatus("offline, reconnecting");
    setTimeout(() => {
      if (getToken() && socket === null) {
        connectLive();
      }
    }, RECONNECT_DELAY_MS);
  });
}
// --8<-- [end:live-feed]

// ---- logging in and out ---------------------------------------------------

async function start() {
  const me = await api("GET", "/auth/me");
  $("who-name").textContent = me.username;
  showLoggedIn(true);
  await loadTasks();
  connectLive();
}

async function logIn(username, password) {
  const token = await api("POST", "/auth/token", { form: { username, password } });
  sessionStorage.setItem(TOKEN_KEY, token.access_token);
  $("password").value = "";
  await start();
}

function logOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  const ws = socket;
  socket = null;
  if (ws) {
    ws.close();
  }
  $("task-list").replaceChildren();
  $("events").replaceChildren();
  setLiveStatus("offline");
  showLoggedIn(false);
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act("Could not log in", () => logIn($("username").value, $("password").value));
});

$("register-button").addEventListener("click", () => {
  if (!$("login-form").reportValidity()) {
    return; // the browser points at the empty field
  }
  const username = $("username").value;
  const password = $("password").value;
  act("Could not register", async () => {
    await api("POST", "/auth/register", { json: { username, password } });
    await logIn(username, password);
  });
});

$("logout-button").addEventListener("click", () => {
  showMessage("");
  logOut();
});

$("new-task-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("new-task-title");
  act("Could not add the task", async () => {
    await api("POST", "/tasks/", { json: { title: input.value } });
    input.value = "";
    await loadTasks();
  });
});

// A reload keeps this tab logged in.
if (getToken()) {
  act("Could not resume your session", start);
}
