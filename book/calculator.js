// The decision calculator (book/src/calculator.md): plain JavaScript, no framework, no network.
//
// The run's numbers come from results/calculator-data.js, written by `authbench report`
// (crates/report/src/calculator.rs). The formulas below are the same as `evaluate` there, in
// the same order of operations; the book test (crates/cli/tests/book.rs) loads this page in
// headless Chromium and checks every output against the Rust. Change one, change both.
//
// mdBook loads this file on every page (book.toml `additional-js`); it does nothing on pages
// without the calculator.
(function () {
  "use strict";

  var DESIGNS = ["session", "none", "denylist", "epoch", "refresh"];
  var LABELS = {
    session: "session",
    none: "JWT, revocation none",
    denylist: "JWT + deny-list",
    epoch: "JWT + per-user epoch",
    refresh: "JWT + refresh tokens",
  };
  var PARAMS = ["rate", "rtt", "alg", "revoke", "services", "users", "lifetime", "refresh_lifetime"];

  // A number at `path` in the data, or NaN when it is missing or null.
  function get(data, path) {
    var v = data;
    for (var i = 0; i < path.length; i++) {
      if (v === null || v === undefined || typeof v !== "object" || !(path[i] in v)) return NaN;
      v = v[path[i]];
    }
    return typeof v === "number" ? v : NaN;
  }

  // Every output, keyed "<design>.<output>": the Rust `evaluate`, line for line.
  function evaluate(data, inp) {
    var out = {};
    var verifies = inp.rate * inp.services;
    var rttUs = inp.rtt_ms * 1000.0;
    var slope = get(data, ["distance_slope"]);
    var rtCpu = get(data, ["round_trip_server_cpu_us"]);
    var rtP50 = get(data, ["round_trip_p50_us"]);
    var jCpu = get(data, ["jwt", inp.alg, "server_cpu_us"]);
    var jP50 = get(data, ["jwt", inp.alg, "p50_us"]);
    var sCpu = get(data, ["session", "server_cpu_us"]);
    var sRedis = get(data, ["session", "redis_cpu_us"]);
    var sP50 = get(data, ["session", "p50_us"]);
    var sTrips = get(data, ["strategies", "session", "round_trips"]);
    var redisPerTrip = sRedis / sTrips;
    DESIGNS.forEach(function (d) {
      var trips = get(data, ["strategies", d, "round_trips"]);
      var appUs, redisUs, p50;
      if (d === "session") {
        appUs = sCpu;
        redisUs = sRedis;
        p50 = sP50 + trips * slope * rttUs;
      } else {
        appUs = jCpu + trips * rtCpu;
        redisUs = trips * redisPerTrip;
        p50 = jP50 + trips * (rtP50 + slope * rttUs);
      }
      var appCores = verifies * appUs / 1e6;
      var redisCores = verifies * redisUs / 1e6;
      var lifetime = d === "refresh" ? inp.refresh_lifetime_s : inp.lifetime_s;
      var windowOf = function (phase) {
        var ms = get(data, ["strategies", d, phase]);
        return isNaN(ms) ? lifetime : ms / 1000.0;
      };
      var logout = windowOf("logout_window_ms");
      var logoutAll = windowOf("logout_all_window_ms");
      var meets = Math.max(logout, logoutAll) <= inp.revoke_s ? 1.0 : 0.0;
      var mib = inp.users * get(data, ["strategies", d, "bytes_per_user"]) / 1048576.0;
      out[d + ".app_cores"] = appCores;
      out[d + ".redis_cores"] = redisCores;
      out[d + ".total_cores"] = appCores + redisCores;
      out[d + ".p50_us"] = p50;
      out[d + ".redis_mib"] = mib;
      out[d + ".logout_window_s"] = logout;
      out[d + ".logout_all_window_s"] = logoutAll;
      out[d + ".meets"] = meets;
    });
    return out;
  }

  function fmt(x) {
    if (isNaN(x)) return "—";
    if (x === 0) return "0";
    var a = Math.abs(x);
    if (a >= 1000) return Math.round(x).toLocaleString("en-US");
    return Number(x.toPrecision(3)).toString();
  }

  function duration(s) {
    if (isNaN(s)) return "—";
    if (s < 1) return fmt(s * 1000) + " ms";
    if (s < 120) return fmt(s) + " s";
    return fmt(s / 60) + " min";
  }

  function el(id) {
    return document.getElementById(id);
  }

  function readInputs() {
    var num = function (id) {
      return parseFloat(el(id).value);
    };
    return {
      rate: num("calc-rate"),
      rtt_ms: num("calc-rtt"),
      alg: el("calc-alg").value,
      revoke_s: num("calc-revoke"),
      services: num("calc-services"),
      users: num("calc-users"),
      lifetime_s: num("calc-lifetime"),
      refresh_lifetime_s: num("calc-refresh_lifetime"),
    };
  }

  function cell(key, value, text) {
    var td = document.createElement("td");
    td.setAttribute("data-output", key);
    td.setAttribute("data-value", String(value));
    td.style.textAlign = "right";
    td.style.whiteSpace = "nowrap";
    td.textContent = text;
    return td;
  }

  function render(data) {
    var inp = readInputs();
    var out = evaluate(data, inp);
    var cost = el("calc-cost");
    var revocation = el("calc-revocation");
    cost.textContent = "";
    revocation.textContent = "";
    DESIGNS.forEach(function (d) {
      var k = function (o) {
        return d + "." + o;
      };
      var row = function () {
        var tr = document.createElement("tr");
        var name = document.createElement("td");
        name.textContent = LABELS[d];
        tr.appendChild(name);
        return tr;
      };
      var tr = row();
      ["app_cores", "redis_cores", "total_cores", "p50_us", "redis_mib"].forEach(function (o) {
        tr.appendChild(cell(k(o), out[k(o)], fmt(out[k(o)])));
      });
      cost.appendChild(tr);
      tr = row();
      ["logout_window_s", "logout_all_window_s"].forEach(function (o) {
        tr.appendChild(cell(k(o), out[k(o)], duration(out[k(o)])));
      });
      tr.appendChild(cell(k("meets"), out[k("meets")], out[k("meets")] === 1 ? "yes" : "no"));
      revocation.appendChild(tr);
    });
    el("calc-summary").textContent = "";
    summary(data, inp, out).forEach(function (line) {
      var li = document.createElement("li");
      li.textContent = line;
      el("calc-summary").appendChild(li);
    });
  }

  // Plain sentences: which designs meet the requirement, and which input dominates.
  function summary(data, inp, out) {
    var lines = [];
    var meet = DESIGNS.filter(function (d) {
      return out[d + ".meets"] === 1;
    });
    var miss = DESIGNS.filter(function (d) {
      return out[d + ".meets"] !== 1;
    });
    lines.push(
      meet.length
        ? "Revoke within " + duration(inp.revoke_s) + ": " + meet.map(label).join(", ") + "."
        : "No design meets a revocation within " + duration(inp.revoke_s) + "."
    );
    if (miss.length) {
      lines.push(
        "Too slow to revoke: " +
          miss
            .map(function (d) {
              return label(d) + " (" + duration(Math.max(out[d + ".logout_window_s"], out[d + ".logout_all_window_s"])) + ")";
            })
            .join(", ") +
          ". Their windows are token lifetimes, so a shorter lifetime input moves them."
      );
    }
    var rttPart = get(data, ["distance_slope"]) * inp.rtt_ms * 1000.0;
    var gap = get(data, ["session", "p50_us"]) - get(data, ["jwt", inp.alg, "p50_us"]);
    if (!isNaN(rttPart) && !isNaN(gap)) {
      lines.push(
        "Latency: your Redis round trip adds about " +
          fmt(rttPart) +
          " µs to each session request (and each deny-list request); on loopback the session's p50 was " +
          fmt(Math.abs(gap)) +
          " µs " +
          (gap >= 0 ? "above" : "below") +
          " JWT " +
          inp.alg +
          "'s. " +
          (rttPart > Math.abs(gap)
            ? "The round trip dominates the latency difference."
            : "The algorithm and the HTTP work dominate the latency difference, not the round trip.")
      );
    }
    var cheapest = DESIGNS.slice().sort(function (a, b) {
      return out[a + ".total_cores"] - out[b + ".total_cores"];
    })[0];
    if (!isNaN(out[cheapest + ".total_cores"])) {
      lines.push(
        "Fewest cores at " +
          fmt(inp.rate * inp.services) +
          " verifies per second: " +
          label(cheapest) +
          " (" +
          fmt(out[cheapest + ".total_cores"]) +
          (cheapest === "session" ? ", of them " : "; the session needs " + fmt(out["session.total_cores"]) + ", of them ") +
          fmt(out["session.redis_cores"]) +
          " on Redis). Cores grow linearly with the rate and the number of verifying services."
      );
    }
    if (inp.alg === "HS256" && inp.services > 1) {
      lines.push(
        "HS256 with " + inp.services + " verifying services: every one of them holds the signing secret and can mint tokens. Prefer an asymmetric algorithm."
      );
    }
    if (inp.services > 1) {
      lines.push(
        "With sessions (and the deny-list), every verifying service needs Redis on its request path, with its latency and availability."
      );
    }
    var lost = get(data, ["strategies", "denylist", "failover_lost"]);
    var acked = get(data, ["strategies", "denylist", "failover_acknowledged"]);
    if (lost > 0 && acked > 0 && out["denylist.meets"] === 1) {
      lines.push(
        "Caution: in this run's Redis Cluster failover the deny-list lost " +
          lost +
          " of " +
          acked +
          " acknowledged logouts (the session lost " +
          get(data, ["strategies", "session", "failover_lost"]) +
          "). For a strict requirement on a failing-over Redis, see Choosing, question 3."
      );
    }
    return lines;
  }

  function label(d) {
    return LABELS[d];
  }

  function start() {
    var data = window.AUTHBENCH_CALCULATOR;
    var form = el("calc-form");
    if (!form || !data) return;
    var alg = el("calc-alg");
    (data.algorithms || []).forEach(function (a) {
      var o = document.createElement("option");
      o.value = a;
      o.textContent = a;
      alg.appendChild(o);
    });
    if ((data.algorithms || []).indexOf("ES256") >= 0) alg.value = "ES256";
    if (data.defaults) {
      el("calc-lifetime").value = String(data.defaults.lifetime_s);
      el("calc-refresh_lifetime").value = String(data.defaults.refresh_lifetime_s);
    }
    var query = new URLSearchParams(window.location.search);
    PARAMS.forEach(function (p) {
      if (query.has(p)) el("calc-" + p).value = query.get(p);
    });
    if (el("calc-run") && data.run) {
      el("calc-run").textContent =
        "run started " + data.run.started_at + ", commit " + String(data.run.commit).slice(0, 12);
    }
    form.addEventListener("input", function () {
      render(data);
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
    });
    render(data);
    form.setAttribute("data-computed", "yes");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
