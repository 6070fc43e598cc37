/* Alliance SCORM package: the quiz page. Reads the answers from the form, checks them as the server's
 * quiz form does, grades them with AllianceGrader, shows the result and feedback, and hands the
 * result to the package's frame (sco.js), which reports it to the learning platform.
 * Opened on its own, outside the package's frame, the quiz still marks answers but records nothing. */
(function () {
  "use strict";
  var quiz = JSON.parse(document.getElementById("grading").textContent);
  var form = document.getElementById("quiz-form");
  var problems = document.getElementById("quiz-problems");
  var resultBox = document.getElementById("quiz-result");
  var cbm = quiz.marking === "certainty";
  var LABELS = { best: "Best", acceptable: "Acceptable", unhelpful: "Unhelpful", harmful: "Harmful",
    correct: "Right", partial: "Partly right", incorrect: "Not right" };

  var sco = null;
  try {
    if (window.parent !== window && window.parent.AllianceSCO) sco = window.parent.AllianceSCO;
  } catch (e) {
    sco = null; // another origin's page around this one: not the package's frame
  }

  function field(name) { return form.elements.namedItem(name); }

  function checkedValues(name) {
    return Array.prototype.filter.call(form.querySelectorAll('input[name="' + name + '"]'), function (input) {
      return input.checked;
    }).map(function (input) { return input.value; });
  }

  /* One item's answer as the server reads its form: {answer} or {partial, message} or {} when unanswered. */
  function readItem(item) {
    var name = "item-" + item.id;
    switch (item.type) {
      case "scenario": {
        var chosen = checkedValues(name);
        return chosen.length ? { answer: chosen[0] } : {};
      }
      case "multiple_response": {
        var ticked = checkedValues(name);
        return ticked.length ? { answer: item.options.map(function (o) { return o.id; }).filter(function (id) {
          return ticked.indexOf(id) >= 0;
        }) } : {};
      }
      case "ordering": {
        var positions = [];
        for (var i = 0; i < item.steps; i++) {
          var value = field(name + "-" + i).value;
          positions.push(value ? Number(value) : null);
        }
        if (positions.every(function (p) { return p === null; })) return {};
        if (positions.indexOf(null) >= 0)
          return { partial: positions, message: "Give every step a position from 1 to " + item.steps + "." };
        var distinct = positions.filter(function (p, at) { return positions.indexOf(p) === at; });
        if (distinct.length !== positions.length)
          return { partial: positions, message: "Use each position once: two steps have the same position." };
        return { answer: positions };
      }
      case "matching": {
        var chosenAnswers = item.answers.map(function (_, at) { return field(name + "-" + at).value || null; });
        if (chosenAnswers.every(function (c) { return c === null; })) return {};
        if (chosenAnswers.indexOf(null) >= 0)
          return { partial: chosenAnswers, message: "Choose an answer for every one of the item’s prompts." };
        return { answer: chosenAnswers };
      }
    }
    return {};
  }

  function readConfidence(item) {
    var levels = checkedValues("confidence-" + item.id);
    return levels.length ? Number(levels[0]) : null;
  }

  /* Everything entered so far, whole or not, for the bookmark. */
  function snapshot() {
    var answers = {}, confidence = {};
    quiz.items.forEach(function (item) {
      var read = readItem(item);
      var value = read.answer || read.partial;
      if (value) answers[item.id] = value;
      var level = readConfidence(item);
      if (level) confidence[item.id] = level;
    });
    return { answers: answers, confidence: confidence };
  }

  function restore(state) {
    quiz.items.forEach(function (item) {
      var answer = state.answers[item.id];
      var name = "item-" + item.id;
      if (answer !== undefined && answer !== null) {
        if (item.type === "scenario" || item.type === "multiple_response") {
          var ids = [].concat(answer);
          form.querySelectorAll('input[name="' + name + '"]').forEach(function (input) {
            input.checked = ids.indexOf(input.value) >= 0;
          });
        } else {
          answer.forEach(function (value, at) { field(name + "-" + at).value = value === null ? "" : String(value); });
        }
      }
      var level = state.confidence[item.id];
      if (level) {
        var radio = document.getElementById("confidence-" + item.id + "-" + level);
        if (radio) radio.checked = true;
      }
    });
  }

  function showError(id, message) {
    var box = document.getElementById(id + "-error");
    var group = document.getElementById(id);
    if (!box) return;
    box.hidden = !message;
    box.textContent = message || "";
    if (message) group.setAttribute("aria-describedby", id + "-error");
    else group.removeAttribute("aria-describedby");
  }

  /* The answers if every item is answered (with a confidence under certainty-based marking), else the problems shown. */
  function collect() {
    var answers = {}, confidence = {}, found = [];
    quiz.items.forEach(function (item, index) {
      var number = index + 1;
      var read = readItem(item);
      var level = readConfidence(item);
      var itemMessage = read.message || (read.answer ? "" : "Answer this item.");
      showError("item-" + item.id, itemMessage);
      if (read.answer) answers[item.id] = read.answer;
      else found.push({ anchor: "item-" + item.id, text: "Item " + number + ": " + (read.message || "it has no answer.") });
      if (cbm) {
        showError("confidence-" + item.id, level ? "" : "Say how sure you are of this answer.");
        if (level) confidence[item.id] = level;
        else found.push({ anchor: "confidence-" + item.id, text: "Item " + number + ": say how sure you are." });
      } else if (level) {
        confidence[item.id] = level;
      }
    });
    var list = problems.querySelector("ul");
    list.textContent = "";
    found.forEach(function (problem) {
      var link = document.createElement("a");
      link.href = "#" + problem.anchor;
      link.textContent = problem.text;
      var entry = document.createElement("li");
      entry.appendChild(link);
      list.appendChild(entry);
    });
    problems.hidden = !found.length;
    return found.length ? null : { answers: answers, confidence: confidence };
  }

  function number(value) {
    return String(Math.round(value * 100) / 100);
  }

  function show(result, answers, recorded) {
    form.querySelectorAll("input, select, button").forEach(function (control) { control.disabled = true; });
    quiz.items.forEach(function (item, index) {
      var g = result.items[index];
      var box = document.getElementById("result-" + item.id);
      box.hidden = false;
      box.className = "item-result grade-" + g.grade;
      box.querySelector(".grade").textContent = LABELS[g.grade] || g.grade;
      box.querySelector(".points").textContent = "· " + number(g.score) + " of " + number(g.max_score) + " points";
      var answer = answers[item.id];
      if (item.type === "scenario") {
        var chosen = box.querySelector('.feedback[data-option="' + answer + '"]');
        if (chosen) chosen.hidden = false;
        var best = box.querySelector(".best-reply");
        if (best) best.hidden = g.is_correct;
      } else if (item.type === "ordering") {
        var steps = box.querySelector(".right-order").children;
        var mine = box.querySelector(".your-order");
        mine.textContent = "";
        answer.map(function (_, step) { return step; }).sort(function (a, b) { return answer[a] - answer[b]; })
          .forEach(function (step, place) {
            var entry = steps[step].cloneNode(true);
            entry.appendChild(document.createTextNode(step === place ? " (in its place)" : ""));
            mine.appendChild(entry);
          });
      } else if (item.type === "matching") {
        box.querySelectorAll("[data-pair]").forEach(function (entry) {
          var at = Number(entry.getAttribute("data-pair"));
          entry.querySelector(".given").textContent = answer[at] === item.answers[at]
            ? " — you chose it (right)"
            : " — you chose “" + answer[at] + "” (not right)";
        });
      } else if (item.type === "multiple_response") {
        box.querySelectorAll("[data-option]").forEach(function (entry) {
          var ticked = answer.indexOf(entry.getAttribute("data-option")) >= 0;
          entry.querySelector(".ticked").textContent = ticked ? "You ticked it. " : "You left it. ";
        });
      }
    });
    var verdict = document.getElementById("quiz-verdict");
    verdict.textContent = result.is_passed ? "You passed." : "You did not pass this time.";
    verdict.className = "verdict " + (result.is_passed ? "passed" : "failed");
    document.getElementById("quiz-score").textContent = cbm
      ? "Average mark " + (result.score / result.max_score).toFixed(2).replace("-", "−") + " per point (−6 to 3); " +
        number(result.percent) + "% against a pass mark of " + quiz.pass_mark + "%."
      : "Score " + number(result.score) + " of " + number(result.max_score) + " points: " + number(result.percent) +
        "% against a pass mark of " + quiz.pass_mark + "%.";
    document.getElementById("quiz-recorded").textContent = recorded
      ? "Your platform has this result. The feedback on each item is below."
      : "This quiz is open outside a learning platform: the result is not recorded anywhere.";
    resultBox.hidden = false;
  }

  form.addEventListener("change", function () {
    if (sco) sco.saveAnswers(snapshot());
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var given = collect();
    if (!given) {
      problems.focus();
      return;
    }
    var result = AllianceGrader.gradeQuiz(quiz, given.answers, given.confidence);
    var recorded = sco ? sco.submit(result, given) : false;
    show(result, given.answers, recorded);
    resultBox.focus();
  });

  form.hidden = false;
  if (sco) {
    var state = sco.state();
    restore(state);
    if (state.submitted) {
      var given = collect();
      if (given) show(AllianceGrader.gradeQuiz(quiz, given.answers, given.confidence), given.answers, true);
    }
  }
})();
