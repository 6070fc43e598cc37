/* Alliance SCORM package: the SCO. Finds the learning platform's run-time API the standard way (the
 * window's parents, then its opener's), keeps one session open while the lessons and the quiz change in
 * the frame, and reports: the bookmark (location and suspend_data), completion and success, the score,
 * and one interaction per quiz item.
 *   SCORM 1.2: LMSInitialize, LMSGetValue, LMSSetValue, LMSCommit, LMSFinish (window.API).
 *   SCORM 2004 4th edition: Initialize, GetValue, SetValue, Commit, Terminate (window.API_1484_11).
 * Without a platform the package still works; nothing is recorded, and the page says so. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("package-data").textContent);
  var quiz = data.quiz;
  var v12 = data.version === "1.2";
  var CALLS = v12
    ? { api: "API", init: "LMSInitialize", get: "LMSGetValue", set: "LMSSetValue", commit: "LMSCommit", finish: "LMSFinish" }
    : { api: "API_1484_11", init: "Initialize", get: "GetValue", set: "SetValue", commit: "Commit", finish: "Terminate" };
  var CMI = v12
    ? { location: "cmi.core.lesson_location", entry: "cmi.core.entry", exit: "cmi.core.exit",
        raw: "cmi.core.score.raw", min: "cmi.core.score.min", max: "cmi.core.score.max",
        time: "cmi.core.session_time", status: "cmi.core.lesson_status" }
    : { location: "cmi.location", entry: "cmi.entry", exit: "cmi.exit",
        raw: "cmi.score.raw", min: "cmi.score.min", max: "cmi.score.max", scaled: "cmi.score.scaled",
        time: "cmi.session_time", completion: "cmi.completion_status", success: "cmi.success_status",
        progress: "cmi.progress_measure" };
  var frame = document.getElementById("content");
  var connection = document.getElementById("connection");
  var started = Date.now();
  var state = { seen: [], answers: {}, confidence: {}, submitted: false };
  var api = null, finished = false, commitTimer = null;

  function lookIn(win) {
    for (var tries = 0; win && tries < 500; tries++) {
      try {
        if (win[CALLS.api]) return win[CALLS.api];
      } catch (e) {
        // a window of another origin: keep looking further up
      }
      if (win.parent === win) break;
      win = win.parent;
    }
    return null;
  }

  function findApi() {
    var found = window.parent !== window ? lookIn(window.parent) : null;
    if (!found && window.opener) {
      try { found = lookIn(window.opener); } catch (e) { found = null; }
    }
    return found;
  }

  function call(name, a, b) {
    if (!api || finished) return "";
    return String(api[CALLS[name]].apply(api, arguments.length > 2 ? [a, b] : arguments.length > 1 ? [a] : [""]));
  }
  function get(element) { return call("get", element); }
  function set(element, value) { return call("set", element, String(value)) === "true"; }
  function commit() {
    clearTimeout(commitTimer);
    commitTimer = null;
    return call("commit", "") === "true";
  }
  function commitSoon() {
    if (!commitTimer) commitTimer = setTimeout(commit, 1000);
  }

  /* --- the learner's place and progress */

  function pageById(id) {
    return data.pages.filter(function (page) { return page.id === id; })[0] || null;
  }

  function currentPage() {
    try {
      var body = frame.contentDocument && frame.contentDocument.body;
      return body ? pageById(body.getAttribute("data-page")) : null;
    } catch (e) {
      return null; // a page from elsewhere (a reference's link) in the frame
    }
  }

  function seenAll() {
    for (var i = 0; i < data.lessons; i++) if (!state.seen[i]) return false;
    return true;
  }
  function seenCount() {
    return state.seen.filter(Boolean).length;
  }
  function isComplete() {
    return seenAll() && (!quiz || state.submitted);
  }

  function bookmark() {
    return AllianceGrader.Bookmark.encode(quiz, data.lessons, state);
  }

  function describe() {
    var parts = ["Lessons seen: " + seenCount() + " of " + data.lessons + "."];
    if (quiz) parts.push(state.submitted ? "Quiz submitted." : "Quiz not submitted yet.");
    parts.push(api ? "Your learning platform records your progress." : "No learning platform found: nothing is recorded.");
    connection.textContent = parts.join(" ");
  }

  function markContents(page) {
    document.querySelectorAll(".contents a").forEach(function (link) {
      var id = link.getAttribute("data-page");
      if (page && id === page.id) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
      var target = pageById(id);
      var seen = target && target.kind === "lesson" && state.seen[data.pages.indexOf(target)];
      link.classList.toggle("seen", Boolean(seen));
    });
  }

  /* Completion once every lesson is seen and the quiz submitted; 1.2 says passed or failed instead when there is a quiz. */
  function reportStatus(result) {
    var complete = isComplete();
    if (v12) {
      if (result) set(CMI.status, result.is_passed ? "passed" : "failed");
      else if (!quiz && complete) set(CMI.status, "completed");
      return;
    }
    set(CMI.completion, complete ? "completed" : "incomplete");
    set(CMI.progress, Math.round(100 * (seenCount() + (state.submitted ? 1 : 0)) / (data.lessons + (quiz ? 1 : 0))) / 100);
    if (result) set(CMI.success, result.is_passed ? "passed" : "failed");
  }

  function save() {
    set("cmi.suspend_data", bookmark());
    reportStatus(null);
    commitSoon();
    describe();
  }

  /* On a phone the contents close once a page is chosen, leaving the screen to the page. */
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 48rem)") : { matches: false };
  var toggle = document.querySelector(".contents-toggle");

  function arrived() {
    var page = currentPage();
    if (!page) return;
    if (narrow.matches && toggle) toggle.open = false;
    if (page.kind === "lesson") state.seen[data.pages.indexOf(page)] = true;
    set(CMI.location, page.id);
    markContents(page);
    save();
  }

  /* --- one interaction per item: its type, the learner's response, the result, the right response */

  var LETTERS = "abcdefghijklmnopqrstuvwxyz";

  function list(values) { return values.join(v12 ? "," : "[,]"); }
  function pair(a, b) { return a + (v12 ? "." : "[.]") + b; }

  function choiceId(item, id) {
    if (!v12) return id;
    var at = item.options.map(function (o) { return o.id; }).indexOf(id);
    return LETTERS[at]; // SCORM 1.2 names a choice with one character
  }

  function responses(item, answer) {
    switch (item.type) {
      case "scenario": {
        var best = item.options.filter(function (o) { return o.grade === "best"; })[0];
        return { type: "choice", learner: choiceId(item, answer), right: choiceId(item, best.id) };
      }
      case "multiple_response":
        return {
          type: "choice",
          learner: list(answer.map(function (id) { return choiceId(item, id); })),
          right: list(item.options.filter(function (o) { return o.correct; }).map(function (o) { return choiceId(item, o.id); }))
        };
      case "ordering": {
        // Steps are named by their place in the right order; the response lists them as the learner ordered them.
        var order = answer.map(function (_, step) { return step; }).sort(function (a, b) { return answer[a] - answer[b]; });
        var right = [];
        for (var step = 1; step <= item.steps; step++) right.push(String(step));
        return { type: "sequencing", learner: list(order.map(function (s) { return String(s + 1); })), right: list(right) };
      }
      case "matching": {
        // Prompts by number, answers by letter in the answer list's order.
        var letter = function (choice) { return LETTERS[item.choices.indexOf(choice)]; };
        return {
          type: "matching",
          learner: list(answer.map(function (choice, at) { return pair(at + 1, letter(choice)); })),
          right: list(item.answers.map(function (choice, at) { return pair(at + 1, letter(choice)); }))
        };
      }
    }
    return null;
  }

  function clock(date) {
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    var time = two(date.getHours()) + ":" + two(date.getMinutes()) + ":" + two(date.getSeconds());
    if (v12) return time;
    return date.getFullYear() + "-" + two(date.getMonth() + 1) + "-" + two(date.getDate()) + "T" + time;
  }

  function outcome(g) {
    if (g.is_correct) return "correct";
    if (g.score > 0) return String(AllianceGrader.pyRound(g.score, 4)); // partly right: the points earned
    return v12 ? "wrong" : "incorrect";
  }

  function recordInteractions(result, answers) {
    var first = Number(get("cmi.interactions._count")) || 0;
    var now = clock(new Date());
    quiz.items.forEach(function (item, index) {
      var prefix = "cmi.interactions." + (first + index) + ".";
      var r = responses(item, answers[item.id]);
      set(prefix + "id", v12 ? item.id : "urn:alliance:" + quiz.id + ":" + item.id);
      set(prefix + "type", r.type);
      if (!v12) set(prefix + "description", item.prompt);
      set(prefix + "weighting", item.max_score);
      set(prefix + (v12 ? "student_response" : "learner_response"), r.learner);
      set(prefix + "result", outcome(result.items[index]));
      set(prefix + "correct_responses.0.pattern", r.right);
      set(prefix + (v12 ? "time" : "timestamp"), now);
    });
  }

  function recordScore(result) {
    if (v12) {
      // SCORM 1.2 keeps scores from 0 to 100: the percentage, within that range (certainty-based marking
      // runs from -600% to 300%), cut (never rounded up) to two decimals so it meets the pass mark only when
      // the percentage does.
      var percent = Math.min(100, Math.max(0, result.percent));
      set(CMI.min, 0);
      set(CMI.max, 100);
      set(CMI.raw, Math.floor(percent * 100) / 100);
      return;
    }
    set(CMI.min, AllianceGrader.pyRound(result.min, 4));
    set(CMI.max, AllianceGrader.pyRound(result.max, 4));
    set(CMI.raw, AllianceGrader.pyRound(result.score, 4));
    set(CMI.scaled, result.scaled);
  }

  /* --- what the quiz page calls (quiz.js) */

  window.AllianceSCO = {
    state: function () {
      return { answers: state.answers, confidence: state.confidence, submitted: state.submitted };
    },
    saveAnswers: function (entered) {
      if (state.submitted) return;
      state.answers = entered.answers;
      state.confidence = entered.confidence;
      save();
    },
    /* Record a graded attempt; true when the platform has it. */
    submit: function (result, given) {
      if (state.submitted) return Boolean(api);
      state.answers = given.answers;
      state.confidence = given.confidence;
      state.submitted = true;
      recordInteractions(result, given.answers);
      recordScore(result);
      set("cmi.suspend_data", bookmark());
      reportStatus(result);
      describe();
      return commit() && Boolean(api);
    }
  };

  /* --- the session */

  function duration() {
    var seconds = Math.max(0, Math.round((Date.now() - started) / 1000));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (!v12) return "PT" + h + "H" + m + "M" + s + "S";
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return (h < 10 ? "000" : h < 100 ? "00" : h < 1000 ? "0" : "") + h + ":" + two(m) + ":" + two(s);
  }

  function finish() {
    if (!api || finished) return;
    var done = v12 ? (quiz ? state.submitted : isComplete()) : isComplete();
    set(CMI.exit, done ? (v12 ? "" : "normal") : "suspend");
    set(CMI.time, duration());
    commit();
    call("finish", "");
    finished = true;
  }

  function start() {
    api = findApi();
    if (api && call("init", "") !== "true") api = null;
    var resumeAt = null;
    if (api) {
      var saved = AllianceGrader.Bookmark.decode(quiz, data.lessons, get("cmi.suspend_data"));
      if (saved) {
        state = saved;
        resumeAt = pageById(get(CMI.location));
      }
      if (v12) {
        var status = get(CMI.status);
        if (status === "not attempted" || status === "") set(CMI.status, "incomplete");
      } else {
        var completion = get(CMI.completion);
        if (completion === "unknown" || completion === "not attempted" || completion === "") set(CMI.completion, "incomplete");
      }
    }
    frame.addEventListener("load", arrived);
    if (resumeAt && currentPage() !== resumeAt) frame.src = resumeAt.href;
    else if (currentPage()) arrived();
    describe();
    window.addEventListener("pagehide", finish);
    window.addEventListener("beforeunload", finish);
  }

  start();
})();
