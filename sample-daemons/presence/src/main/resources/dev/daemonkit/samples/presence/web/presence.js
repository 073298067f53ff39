// The presence page: a client of the WebSocket protocol (docs/protocols/presence.md). Each message
// is one line: commands go out, replies (OK/ERR), events (EVENT) and BYE come in.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  ws: null,
  me: null,
  current: null,            // the room shown in the chat pane
  joined: new Map(),        // room -> { members: Set, messages: [ {who, text, event} ] }
};

function send(line) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(line);
  }
}

function status(text) { $("status").textContent = text; }
function error(text) { $("error").textContent = text; }

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => { status("connected"); send("ROOMS"); };
  ws.onmessage = (e) => onLine(e.data);
  ws.onclose = () => { status("disconnected: reload the page to connect again"); state.ws = null; };
}

function onLine(line) {
  const words = line.split(" ");
  if (words[0] === "EVENT") {
    onEvent(words);
  } else if (words[0] === "OK") {
    onOk(words);
  } else if (words[0] === "ERR") {
    error(words.slice(2).join(" ") + " (" + words[1] + ")");
  } else if (words[0] === "BYE") {
    status("server closed the connection: " + words.slice(2).join(" "));
  }
}

function onOk(words) {
  const [, command, ...args] = words;
  error("");
  if (command === "LOGIN") {
    state.me = args[0];
    $("me").textContent = "you are " + state.me;
    $("login-form").hidden = true;
  } else if (command === "JOIN") {
    state.joined.set(args[0], { members: new Set(), messages: [] });
    show(args[0]);
    send("WHO " + args[0]);
    send("ROOMS");
  } else if (command === "LEAVE") {
    state.joined.delete(args[0]);
    if (state.current === args[0]) {
      show(state.joined.size ? state.joined.keys().next().value : null);
    }
    send("ROOMS");
  } else if (command === "WHO") {
    const room = state.joined.get(args[0]);
    if (room) {
      room.members = new Set(args.slice(2));
      render();
    }
  } else if (command === "ROOMS") {
    renderRooms(args.slice(1).map((r) => r.split(":")));
  }
}

function onEvent(words) {
  const [, kind, roomName, who] = words;
  const room = state.joined.get(roomName);
  if (!room) {
    return;
  }
  if (kind === "MSG") {
    room.messages.push({ who, text: words.slice(4).join(" ") });
  } else if (kind === "JOIN") {
    room.members.add(who);
    room.messages.push({ who, text: "joined", event: true });
  } else if (kind === "LEAVE" || kind === "TIMEOUT") {
    room.members.delete(who);
    room.messages.push({ who, text: kind === "LEAVE" ? "left" : "timed out", event: true });
  }
  if (room.messages.length > 500) {
    room.messages.splice(0, room.messages.length - 500);
  }
  if (roomName === state.current) {
    render();
  }
}

function show(roomName) {
  state.current = roomName;
  render();
  send("ROOMS");
}

function render() {
  const room = state.current && state.joined.get(state.current);
  $("current").textContent = room ? state.current : "no room yet: join one";
  const messages = $("messages");
  messages.replaceChildren(...(room ? room.messages : []).map((m) => {
    const li = document.createElement("li");
    if (m.event) {
      li.className = "event";
    }
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = m.who;
    li.append(who, document.createTextNode(m.text));   // text, never HTML: other users wrote it
    return li;
  }));
  messages.scrollTop = messages.scrollHeight;
  $("members").replaceChildren(...(room ? [...room.members].sort() : []).map((n) => {
    const li = document.createElement("li");
    li.textContent = n;
    return li;
  }));
}

function renderRooms(rooms) {
  $("rooms").replaceChildren(...rooms.map(([name, count]) => {
    const li = document.createElement("li");
    li.textContent = `${name} (${count})`;
    li.dataset.room = name;
    li.classList.toggle("joined", state.joined.has(name));
    li.classList.toggle("current", name === state.current);
    li.onclick = () => (state.joined.has(name) ? show(name) : send("JOIN " + name));
    return li;
  }));
}

$("login-form").onsubmit = (e) => { e.preventDefault(); send("LOGIN " + $("name").value.trim()); };
$("join-form").onsubmit = (e) => {
  e.preventDefault();
  const room = $("room").value.trim();
  if (state.joined.has(room)) {
    show(room);
  } else {
    send("JOIN " + room);
  }
  $("room").value = "";
};
$("say-form").onsubmit = (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (state.current && text) {
    send(`SAY ${state.current} ${text}`);
  }
  $("text").value = "";
};
$("leave").onclick = () => state.current && send("LEAVE " + state.current);

// The heartbeat: the server drops a connection silent for heartbeat-timeout (30 s by default).
setInterval(() => send("PING"), 10000);
// Who is online in which room: the member lists of joined rooms follow events live; the room list is polled.
setInterval(() => send("ROOMS"), 2000);
// Rooms above the server's announce-membership-up-to (1000) send no JOIN/LEAVE events: re-read the members.
setInterval(() => state.current && send("WHO " + state.current), 5000);
connect();
