/* Alliance SCORM package: grading and the bookmark, in plain JavaScript.
 *
 * Grades answers exactly as the Alliance server does (app/content/items.py for each item type,
 * app/services/quizzes.py and app/content/certainty.py for the quiz's score), from the grading data
 * the package carries (quiz.html, <script type="application/json" id="grading">). Answers have the
 * server's shapes: a scenario's option id; an ordering's position (1..n) for each step; a matching's
 * chosen answer for each prompt; a multiple-response's ticked option ids.
 *
 * Works in a browser (window.AllianceGrader) and in Node (module.exports), where the tests compare
 * it with the server's grader.
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) module.exports = factory();
  else root.AllianceGrader = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var CBM_RIGHT = { 1: 1.0, 2: 2.0, 3: 3.0 };
  var CBM_WRONG = { 1: 0.0, 2: -2.0, 3: -6.0 };
  var TOLERANCE = 1e-7; // below this a fraction counts as nothing right (certainty.py)

  function AnswerError(message) {
    this.name = "AnswerError";
    this.message = message;
  }
  AnswerError.prototype = Object.create(Error.prototype);

  /* Python's round(x, digits): the decimal nearest the double's exact value, ties to even. */
  function pyRound(x, digits) {
    if (!isFinite(x) || x === 0) return x;
    var text = Math.abs(x).toFixed(100); // exact enough to tell a true tie from a near one
    var dot = text.indexOf(".");
    var kept = text.slice(0, dot) + text.slice(dot + 1, dot + 1 + digits);
    var rest = text.slice(dot + 1 + digits);
    var up;
    if (rest[0] !== "5") up = rest[0] > "5";
    else if (/[1-9]/.test(rest.slice(1))) up = true;
    else up = Number(kept[kept.length - 1]) % 2 === 1;
    var whole = Number(kept) + (up ? 1 : 0);
    return (x < 0 ? -1 : 1) * (whole / Math.pow(10, digits));
  }

  /* Python's sum() of floats: left to right before 3.12, Neumaier's compensated sum from 3.12 on. */
  function pySum(values, mode) {
    if (!values.length) return 0;
    var total = 0 + values[0];
    if (mode !== "compensated") {
      for (var i = 1; i < values.length; i++) total += values[i];
      return total;
    }
    var compensation = 0.0;
    for (var j = 1; j < values.length; j++) {
      var x = values[j];
      var t = total + x;
      if (Math.abs(total) >= Math.abs(x)) compensation += (total - t) + x;
      else compensation += (x - t) + total;
      total = t;
    }
    if (compensation && isFinite(compensation)) total += compensation;
    return total;
  }

  /* The length of the longest increasing subsequence: steps in the right relative order. */
  function longestOrderedRun(order) {
    var tails = [];
    order.forEach(function (value) {
      var low = 0, high = tails.length;
      while (low < high) {
        var middle = (low + high) >> 1;
        if (tails[middle] < value) low = middle + 1;
        else high = middle;
      }
      tails[low] = value;
    });
    return tails.length;
  }

  function rightness(score, maxScore) {
    if (score >= maxScore) return "correct";
    return score > 0 ? "partial" : "incorrect";
  }

  function tagged(item, score, isCorrect) {
    return { score: score, max_score: item.max_score, is_correct: isCorrect, grade: rightness(score, item.max_score) };
  }

  var GRADERS = {
    scenario: function (item, answer) {
      var option = item.options.filter(function (o) { return o.id === answer; })[0];
      if (!option) throw new AnswerError("'" + answer + "' is not an option of this item");
      return { score: option.score, max_score: item.max_score, is_correct: option.grade === "best", grade: option.grade };
    },
    ordering: function (item, answer) {
      var count = item.steps;
      var sorted = Array.isArray(answer) ? answer.slice().sort(function (a, b) { return a - b; }) : [];
      var valid = sorted.length === count && sorted.every(function (p, i) { return p === i + 1; });
      if (!valid) throw new AnswerError("That is not an order of this item's steps.");
      var order = answer.map(function (_, i) { return i; }).sort(function (a, b) { return answer[a] - answer[b]; });
      var run = longestOrderedRun(order);
      var score = pyRound(item.max_score * (run - 1) / (count - 1), 4);
      return tagged(item, score, order.every(function (step, i) { return step === i; }));
    },
    matching: function (item, answer) {
      if (!Array.isArray(answer) || answer.length !== item.answers.length)
        throw new AnswerError("That is not an answer to every prompt of this item.");
      var right = answer.filter(function (given, i) { return given === item.answers[i]; }).length;
      var score = pyRound(item.max_score * right / item.answers.length, 4);
      return tagged(item, score, right === item.answers.length);
    },
    multiple_response: function (item, answer) {
      var ids = item.options.map(function (o) { return o.id; });
      if (!Array.isArray(answer) || answer.some(function (a) { return ids.indexOf(a) < 0; }))
        throw new AnswerError("That is not a choice of this item's options.");
      var right = 0, wrong = 0, correct = 0;
      item.options.forEach(function (o) {
        if (o.correct) correct += 1;
        if (answer.indexOf(o.id) >= 0) {
          if (o.correct) right += 1;
          else wrong += 1;
        }
      });
      var score = pyRound(item.max_score * Math.max(0.0, (right - wrong) / correct), 4);
      var exact = right === correct && wrong === 0;
      return tagged(item, score, exact);
    }
  };

  function gradeItem(item, answer) {
    var grader = GRADERS[item.type];
    if (!grader) throw new AnswerError("Items of type '" + item.type + "' cannot be graded here.");
    return grader(item, answer);
  }

  /* The certainty-based mark of one graded answer, in the item's points (certainty.mark). */
  function cbmScore(g, confidence) {
    var fraction = g.max_score ? g.score / g.max_score : 0.0;
    var mark = fraction <= TOLERANCE ? CBM_WRONG[confidence] : CBM_RIGHT[confidence] * Math.min(fraction, 1.0);
    return mark * g.max_score;
  }

  /* A score on the scale from -1 to 1 (quizzes.scaled): a gain against the highest, a loss against the lowest. */
  function scaled(score, low, high) {
    if (score >= 0) return high > 0 ? pyRound(score / high, 4) : 0.0;
    return low < 0 ? pyRound(score / -low, 4) : 0.0;
  }

  /* Grade every item and the whole quiz as quizzes.submit_attempt does; confidence may be null per item. */
  function gradeQuiz(quiz, answers, confidence) {
    confidence = confidence || {};
    var graded = quiz.items.map(function (item) { return gradeItem(item, answers[item.id]); });
    var sum = function (values) { return pySum(values, quiz.summation); };
    var weight = sum(graded.map(function (g) { return g.max_score; }));
    var score;
    if (quiz.marking === "certainty") {
      score = sum(graded.map(function (g, i) { return cbmScore(g, confidence[quiz.items[i].id] || 1); }));
    } else {
      score = sum(graded.map(function (g) { return g.score; }));
    }
    var percent = weight ? 100.0 * score / weight : 0.0;
    var low = quiz.marking === "certainty" ? CBM_WRONG[3] * weight : 0.0;
    var high = quiz.marking === "certainty" ? CBM_RIGHT[3] * weight : weight;
    return {
      items: graded,
      score: score,
      max_score: weight,
      percent: percent,
      is_passed: percent >= quiz.pass_mark,
      min: low,
      max: high,
      scaled: scaled(score, low, high)
    };
  }

  /* --- the bookmark: what the learner has seen and answered, in few characters (cmi.suspend_data)
   * "A1|" + one 0/1 per lesson (seen) + "|" + per item a confidence digit (0 for none) and the answer,
   * items joined by "," + "|" + 1 once the quiz is submitted. An answer is a scenario option's position
   * (base 36), the ticked options as a base-36 bit mask, a position per step, or a chosen answer's position
   * (base 36) per prompt; "-" marks a step or prompt not yet set, and an unanswered item has no answer.
   * grading.py's longest_bookmark predicts the longest this can be. */
  var VERSION = "A1";

  function encodeAnswer(item, answer) {
    if (answer === undefined || answer === null) return "";
    switch (item.type) {
      case "scenario": {
        var index = item.options.map(function (o) { return o.id; }).indexOf(answer);
        return index < 0 ? "" : index.toString(36);
      }
      case "multiple_response": {
        var mask = 0;
        item.options.forEach(function (o, i) { if (answer.indexOf(o.id) >= 0) mask |= 1 << i; });
        return mask ? mask.toString(36) : "";
      }
      case "ordering":
        return answer.map(function (p) { return p ? String(p) : "-"; }).join("");
      case "matching":
        return answer.map(function (c) {
          var at = item.choices.indexOf(c);
          return at < 0 ? "-" : at.toString(36);
        }).join("");
    }
    return "";
  }

  function decodeAnswer(item, text) {
    if (!text) return null;
    switch (item.type) {
      case "scenario": {
        var option = item.options[parseInt(text, 36)];
        return option ? option.id : null;
      }
      case "multiple_response": {
        var mask = parseInt(text, 36);
        return item.options.filter(function (_, i) { return mask & (1 << i); }).map(function (o) { return o.id; });
      }
      case "ordering":
        return text.split("").map(function (c) { return c === "-" ? null : Number(c); });
      case "matching":
        return text.split("").map(function (c) { return c === "-" ? null : item.choices[parseInt(c, 36)] || null; });
    }
    return null;
  }

  var Bookmark = {
    encode: function (quiz, lessonCount, state) {
      var seen = "";
      for (var i = 0; i < lessonCount; i++) seen += state.seen && state.seen[i] ? "1" : "0";
      var items = quiz ? quiz.items.map(function (item) {
        var level = state.confidence && state.confidence[item.id];
        return String(level || 0) + encodeAnswer(item, state.answers && state.answers[item.id]);
      }).join(",") : "";
      return [VERSION, seen, items, state.submitted ? "1" : "0"].join("|");
    },
    /* The state a bookmark holds, or null for one this package did not write. */
    decode: function (quiz, lessonCount, text) {
      var parts = String(text || "").split("|");
      if (parts.length !== 4 || parts[0] !== VERSION || parts[1].length !== lessonCount) return null;
      var state = { seen: parts[1].split("").map(function (c) { return c === "1"; }), answers: {}, confidence: {},
        submitted: parts[3] === "1" };
      var tokens = parts[2] ? parts[2].split(",") : [];
      if (quiz && tokens.length === quiz.items.length) {
        quiz.items.forEach(function (item, i) {
          var level = Number(tokens[i][0]);
          if (level >= 1 && level <= 3) state.confidence[item.id] = level;
          var answer = decodeAnswer(item, tokens[i].slice(1));
          if (answer !== null) state.answers[item.id] = answer;
        });
      } else if (quiz) {
        state.submitted = false;
      }
      return state;
    }
  };

  return {
    AnswerError: AnswerError,
    gradeItem: gradeItem,
    gradeQuiz: gradeQuiz,
    pyRound: pyRound,
    pySum: pySum,
    Bookmark: Bookmark
  };
});
