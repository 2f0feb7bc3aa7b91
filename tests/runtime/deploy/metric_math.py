"""The subset of CloudWatch metric math that gops's rollback alarms use, evaluated
the way CloudWatch evaluates it, for the alarm tests (run_alarm_tests.py).

Why an evaluator of our own: moto_server answers GetMetricData for MetricStat queries
(a metric, its dimensions, a period and a statistic) but not for expressions, whose
result is only the data of the query the expression names (moto's
cloudwatch/metric_data_expression_parser.py), and it never evaluates alarms. So the
tests fetch every metric an alarm's `metric_query` names from moto, evaluate the
alarm's expressions here, and compare the result with the alarm's threshold the way
CloudWatch's alarm evaluation does (`evaluate_alarm`).

The subset, with the rules of the CloudWatch user guide ("Metric math syntax and
functions", "Using IF expressions"):

  - numbers, ids of other queries, `+ - * /`, unary `-`, parentheses;
  - comparisons `> >= < <= == !=` and `AND`, `OR` (`&&`, `||`): 1 where true, 0
    where false;
  - FILL(series, number): the series with every missing period of the queried range
    filled with the number;
  - IF(condition, then[, else]): per point of the condition, `then` where it is not 0,
    else `else`; without `else`, no point where the condition is 0;
  - MAX([a, b, ...]), MIN([a, b, ...]): per timestamp, the largest (smallest) value
    of the series that have one.

Arithmetic between two series keeps the timestamps both have; a division by 0 gives
no point; an IF branch that is a series without a point at the condition's timestamp
gives no point. (CloudWatch fills some of these with 0; the expressions gops writes
never depend on it: every series an IF or an operator combines is complete, FILLed,
over the queried range.)
"""
import math
import re

TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(>=|<=|==|!=|&&|\|\||[-+*/(),\[\]<>]))")


class Series(dict):
    """{timestamp (int seconds): float}."""


def _tokens(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"metric math: cannot read {text[pos:]!r} in {text!r}")
        num, name, op = m.groups()
        out.append(("num", float(num)) if num else ("name", name) if name else ("op", op))
        pos = m.end()
    return out


class Evaluator:
    """Evaluates the expressions of one alarm's metric_query over `grid` (the period
    start times of the queried range), given the metrics' data by id."""

    def __init__(self, grid, data):
        self.grid = list(grid)
        self.values = dict(data)  # id -> Series (metrics, then expressions as evaluated)

    # --- parsing (recursive descent; precedence: OR < AND < comparison < + - < * / < unary)
    def evaluate(self, text):
        self.toks = _tokens(text)
        self.i = 0
        v = self._or()
        if self.i != len(self.toks):
            raise ValueError(f"metric math: unexpected {self.toks[self.i][1]!r} in {text!r}")
        return v

    def _peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def _take(self, kind=None, value=None):
        t = self._peek()
        if (kind and t[0] != kind) or (value is not None and t[1] != value):
            raise ValueError(f"metric math: expected {value or kind}, found {t[1]!r}")
        self.i += 1
        return t

    def _is(self, *values):
        t = self._peek()
        return (t[0] in ("op", "name")) and t[1] in values

    def _or(self):
        v = self._and()
        while self._is("OR", "||"):
            self._take()
            v = binary(v, self._and(), lambda a, b: float(a != 0 or b != 0))
        return v

    def _and(self):
        v = self._cmp()
        while self._is("AND", "&&"):
            self._take()
            v = binary(v, self._cmp(), lambda a, b: float(a != 0 and b != 0))
        return v

    def _cmp(self):
        v = self._add()
        ops = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
               "<=": lambda a, b: a <= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
        if self._peek()[0] == "op" and self._peek()[1] in ops:
            f = ops[self._take()[1]]
            v = binary(v, self._add(), lambda a, b: float(f(a, b)))
        return v

    def _add(self):
        v = self._mul()
        while self._peek() in (("op", "+"), ("op", "-")):
            op = self._take()[1]
            v = binary(v, self._mul(), (lambda a, b: a + b) if op == "+" else (lambda a, b: a - b))
        return v

    def _mul(self):
        v = self._unary()
        while self._peek() in (("op", "*"), ("op", "/")):
            op = self._take()[1]
            v = binary(v, self._unary(), (lambda a, b: a * b) if op == "*" else (lambda a, b: None if b == 0 else a / b))
        return v

    def _unary(self):
        if self._peek() == ("op", "-"):
            self._take()
            return binary(0.0, self._unary(), lambda a, b: a - b)
        return self._primary()

    def _primary(self):
        kind, value = self._peek()
        if kind == "num":
            self._take()
            return value
        if (kind, value) == ("op", "("):
            self._take()
            v = self._or()
            self._take("op", ")")
            return v
        if (kind, value) == ("op", "["):
            self._take()
            items = [self._or()]
            while self._peek() == ("op", ","):
                self._take()
                items.append(self._or())
            self._take("op", "]")
            return items
        if kind == "name":
            self._take()
            if self._peek() == ("op", "("):
                self._take()
                args = [self._or()]
                while self._peek() == ("op", ","):
                    self._take()
                    args.append(self._or())
                self._take("op", ")")
                return self._call(value, args)
            if value not in self.values:
                raise ValueError(f"metric math: no query with the id {value!r}")
            return self.values[value]
        raise ValueError(f"metric math: unexpected {value!r}")

    def _call(self, name, args):
        if name == "FILL":
            series, filler = args
            out = Series(series)
            for ts in self.grid:
                out.setdefault(ts, filler)
            return Series(sorted(out.items()))
        if name == "IF":
            cond, then = args[0], args[1]
            otherwise = args[2] if len(args) > 2 else None
            if not isinstance(cond, dict):
                return then if cond != 0 else otherwise
            out = Series()
            for ts, c in cond.items():
                branch = then if c != 0 else otherwise
                if branch is None:
                    continue
                v = branch if not isinstance(branch, dict) else branch.get(ts)
                if v is not None:
                    out[ts] = v
            return out
        if name in ("MAX", "MIN"):
            (items,) = args
            pick = max if name == "MAX" else min
            stamps = sorted({ts for s in items for ts in s})
            return Series((ts, pick(s[ts] for s in items if ts in s)) for ts in stamps)
        raise ValueError(f"metric math: {name} is not a function gops writes")


def binary(a, b, f):
    """a op b for numbers and series: per common timestamp; None from f drops the point."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = Series()
        for ts in sorted(a.keys() & b.keys()):
            v = f(a[ts], b[ts])
            if v is not None and not math.isnan(v):
                out[ts] = v
        return out
    if isinstance(a, dict) or isinstance(b, dict):
        s, scalar, left = (a, b, True) if isinstance(a, dict) else (b, a, False)
        out = Series()
        for ts, x in s.items():
            v = f(x, scalar) if left else f(scalar, x)
            if v is not None:
                out[ts] = v
        return out
    return f(a, b)


def evaluate_queries(queries, grid, data):
    """The series the alarm compares: the one query with `return_data`. `queries` are the
    Terraform `metric_query` blocks; `data` holds each metric query's series by id.
    Expressions are evaluated in dependency order (an id is used after it is defined)."""
    ev = Evaluator(grid, data)
    pending = [q for q in queries if "expression" in q]
    while pending:
        progress = False
        for q in list(pending):
            names = {t[1] for t in _tokens(q["expression"]) if t[0] == "name"}
            if all(n in ev.values or n in FUNCTIONS for n in names):
                v = ev.evaluate(q["expression"])
                ev.values[q["id"]] = v if isinstance(v, dict) else Series((ts, v) for ts in grid)
                pending.remove(q)
                progress = True
        if not progress:
            raise ValueError("metric math: expressions refer to ids that are never defined: "
                             + ", ".join(q["id"] for q in pending))
    returned = [q["id"] for q in queries if q.get("return_data")]
    if len(returned) != 1:
        raise ValueError(f"an alarm returns exactly one query, found {returned}")
    return ev.values[returned[0]]


FUNCTIONS = {"FILL", "IF", "MAX", "MIN", "AND", "OR"}

COMPARE = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


def evaluate_alarm(alarm, series, grid):
    """The state CloudWatch gives the alarm at the end of `grid`: ALARM when at least
    `datapoints_to_alarm` of the last `evaluation_periods` datapoints breach, with
    missing datapoints counted as `treat_missing_data` says (`notBreaching`: good;
    `missing`: not counted, the most recent datapoints within the evaluation range
    are used, INSUFFICIENT_DATA when there are none). The evaluation range here is
    the whole grid, longer than CloudWatch's own (a few periods more than
    `evaluation_periods`); the tests keep each scenario's data within it."""
    n = alarm["evaluation_periods"]
    m = alarm.get("datapoints_to_alarm", n)
    breach = COMPARE[alarm["comparison_operator"]]
    treat = alarm.get("treat_missing_data", "missing")
    if treat == "notBreaching":
        window = [series.get(ts) for ts in grid[-n:]]
        points = [v for v in window if v is not None]
        if not points and all(v is None for v in window):
            return "OK"
    elif treat == "missing":
        points = [series[ts] for ts in grid if ts in series][-n:]
        if not points:
            return "INSUFFICIENT_DATA"
    else:
        raise ValueError(f"treat_missing_data {treat} is not one gops writes")
    breaching = sum(1 for v in points if breach(v, alarm["threshold"]))
    return "ALARM" if breaching >= m else "OK"
