//! Formulas: the expressions `formula` steps compute variables with (Astro Zero Flows and scripts,
//! workflow script nodes), and the catalogue Astro Zero's `GET /u-route/baas/formula/v1.0/functions`
//! lists — the catalogue is this module's function table, so it names exactly what a formula can call.
//!
//! Syntax (the flow designer's): `{!var}` or `{!var.path.0}` reads a variable; literals are numbers,
//! `"text"` or `'text'`, `true`, `false`, `null`; operators `+ - * /` on numbers, `&` joins text,
//! `= == != <> < > <= >=` compare, `&&`/`||`/`!` combine; functions are called by name, case-insensitive
//! (`IF({!qty} > 10, "bulk", "single")`). Dates are `yyyy-MM-dd` and date-times
//! `yyyy-MM-dd HH:mm:ss` in China time, as records print them.
//!
//! Parsing is bounded (length and nesting), evaluation is lazy for `IF`/`AND`/`OR`/`CASE`, and every
//! failure is a message naming what is wrong — never a panic.

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde_json::{json, Map, Value};

use crate::core::clock::Millis;
use crate::core::keypath;

/// Longest formula accepted, in bytes.
pub const MAX_LEN: usize = 4096;
/// Deepest nesting of parentheses and calls.
const MAX_DEPTH: usize = 64;

/// A parsed formula.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Value),
    Var(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Call(&'static Function, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Join,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    And,
    Or,
}

/// What a formula reads besides its variables.
pub struct Env<'a> {
    pub vars: &'a Map<String, Value>,
    pub now: Millis,
}

type Eval = fn(&[Expr], &Env) -> Result<Value, String>;

/// One catalogue entry.
#[derive(Debug)]
pub struct Function {
    pub name: &'static str,
    pub category: (&'static str, &'static str),
    pub format: &'static str,
    pub description: (&'static str, &'static str),
    pub min_args: usize,
    /// `None`: any number from `min_args` on.
    pub max_args: Option<usize>,
    eval: Eval,
}

impl PartialEq for Function {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

const MATH: (&str, &str) = ("数学函数", "Math");
const TEXT: (&str, &str) = ("文本函数", "Text");
const LOGIC: (&str, &str) = ("逻辑函数", "Logical");
const DATE: (&str, &str) = ("日期函数", "Date");

macro_rules! function {
    ($name:literal, $cat:expr, $format:literal, $zh:literal, $en:literal, $min:expr, $max:expr, $eval:expr) => {
        Function { name: $name, category: $cat, format: $format, description: ($zh, $en), min_args: $min, max_args: $max, eval: $eval }
    };
}

/// Every function a formula may call, in catalogue order.
pub static FUNCTIONS: &[Function] = &[
    function!("ABS", MATH, "ABS(number)", "返回数字的绝对值", "The absolute value of a number", 1, Some(1), |a, e| num1(
        a,
        e,
        f64::abs
    )),
    function!("CEILING", MATH, "CEILING(number)", "向上取整", "Rounds a number up to the nearest integer", 1, Some(1), |a, e| num1(
        a,
        e,
        f64::ceil
    )),
    function!("FLOOR", MATH, "FLOOR(number)", "向下取整", "Rounds a number down to the nearest integer", 1, Some(1), |a, e| num1(
        a,
        e,
        f64::floor
    )),
    function!(
        "ROUND",
        MATH,
        "ROUND(number, digits)",
        "按指定小数位数四舍五入",
        "Rounds a number to the given number of decimal places",
        2,
        Some(2),
        round
    ),
    function!("MOD", MATH, "MOD(number, divisor)", "返回两数相除的余数", "The remainder of a division", 2, Some(2), modulo),
    function!("MAX", MATH, "MAX(number, number, ...)", "返回最大值", "The largest of the numbers", 1, None, |a, e| fold(
        a,
        e,
        f64::max
    )),
    function!("MIN", MATH, "MIN(number, number, ...)", "返回最小值", "The smallest of the numbers", 1, None, |a, e| fold(
        a,
        e,
        f64::min
    )),
    function!("SQRT", MATH, "SQRT(number)", "返回平方根", "The square root of a number", 1, Some(1), sqrt),
    function!("POWER", MATH, "POWER(number, exponent)", "返回数字的乘幂", "A number raised to a power", 2, Some(2), power),
    function!("CONCAT", TEXT, "CONCAT(text, text, ...)", "连接多个文本", "Joins texts into one", 1, None, concat),
    function!("LEN", TEXT, "LEN(text)", "返回文本的字符数", "The number of characters in a text", 1, Some(1), len),
    function!("UPPER", TEXT, "UPPER(text)", "转换为大写", "Converts a text to upper case", 1, Some(1), |a, e| text1(a, e, |s| s
        .to_uppercase())),
    function!("LOWER", TEXT, "LOWER(text)", "转换为小写", "Converts a text to lower case", 1, Some(1), |a, e| text1(a, e, |s| s
        .to_lowercase())),
    function!("TRIM", TEXT, "TRIM(text)", "去除首尾空格", "Removes leading and trailing spaces", 1, Some(1), |a, e| text1(
        a,
        e,
        |s| s.trim().to_owned()
    )),
    function!("LEFT", TEXT, "LEFT(text, count)", "返回文本开头的指定个字符", "The first characters of a text", 2, Some(2), left),
    function!("RIGHT", TEXT, "RIGHT(text, count)", "返回文本末尾的指定个字符", "The last characters of a text", 2, Some(2), right),
    function!(
        "MID",
        TEXT,
        "MID(text, start, count)",
        "从指定位置（从 1 起）返回指定个字符",
        "Characters from a position (counting from 1)",
        3,
        Some(3),
        mid
    ),
    function!(
        "SUBSTITUTE",
        TEXT,
        "SUBSTITUTE(text, old, new)",
        "替换文本中的内容",
        "Replaces every occurrence of a text",
        3,
        Some(3),
        substitute
    ),
    function!(
        "CONTAINS",
        TEXT,
        "CONTAINS(text, search)",
        "判断文本是否包含指定内容",
        "Whether a text contains another",
        2,
        Some(2),
        contains
    ),
    function!(
        "BEGINS",
        TEXT,
        "BEGINS(text, prefix)",
        "判断文本是否以指定内容开头",
        "Whether a text starts with another",
        2,
        Some(2),
        begins
    ),
    function!("TEXT", TEXT, "TEXT(value)", "将值转换为文本", "Converts a value to text", 1, Some(1), |a, e| Ok(json!(text_of(
        &eval(&a[0], e)?
    )))),
    function!("VALUE", TEXT, "VALUE(text)", "将文本转换为数字", "Converts a text to a number", 1, Some(1), value),
    function!(
        "IF",
        LOGIC,
        "IF(condition, value_if_true, value_if_false)",
        "根据条件返回不同的值",
        "One of two values depending on a condition",
        3,
        Some(3),
        if_
    ),
    function!("AND", LOGIC, "AND(condition, condition, ...)", "所有条件都为真时返回真", "True when every condition is true", 1, None, and),
    function!("OR", LOGIC, "OR(condition, condition, ...)", "任一条件为真时返回真", "True when any condition is true", 1, None, or),
    function!("NOT", LOGIC, "NOT(condition)", "取反", "The opposite of a condition", 1, Some(1), |a, e| Ok(json!(!truthy(&eval(
        &a[0], e
    )?)))),
    function!("ISBLANK", LOGIC, "ISBLANK(value)", "判断值是否为空", "Whether a value is empty", 1, Some(1), |a, e| Ok(json!(
        blank(&eval(&a[0], e)?)
    ))),
    function!(
        "BLANKVALUE",
        LOGIC,
        "BLANKVALUE(value, default)",
        "值为空时返回默认值",
        "The value, or the default when it is empty",
        2,
        Some(2),
        blank_value
    ),
    function!(
        "CASE",
        LOGIC,
        "CASE(value, match1, result1, ..., else_result)",
        "按匹配值返回对应结果",
        "The result paired with the first matching value",
        4,
        None,
        case
    ),
    function!("NOW", DATE, "NOW()", "返回当前日期时间", "The current date and time", 0, Some(0), |_, e| Ok(json!(datetime_text(
        e.now
    )))),
    function!("TODAY", DATE, "TODAY()", "返回当前日期", "The current date", 0, Some(0), |_, e| Ok(json!(
        datetime_text(e.now)[..10].to_owned()
    ))),
    function!("ADDDAYS", DATE, "ADDDAYS(date, days)", "日期加上指定天数", "A date plus a number of days", 2, Some(2), add_days),
    function!("DATEVALUE", DATE, "DATEVALUE(text)", "将文本转换为日期", "The date a text names", 1, Some(1), date_value),
    function!("YEAR", DATE, "YEAR(date)", "返回日期的年份", "The year of a date", 1, Some(1), |a, e| date_part(a, e, |d| d.year()
        as i64)),
    function!("MONTH", DATE, "MONTH(date)", "返回日期的月份", "The month of a date", 1, Some(1), |a, e| date_part(
        a,
        e,
        |d| d.month() as i64
    )),
    function!("DAY", DATE, "DAY(date)", "返回日期在月中的天数", "The day of the month of a date", 1, Some(1), |a, e| date_part(
        a,
        e,
        |d| d.day() as i64
    )),
];

/// The catalogue as the API answers it: `{name, category, format, description}` in the caller's language.
pub fn catalogue(english: bool) -> Value {
    let pick = |(zh, en): (&str, &str)| if english { en.to_owned() } else { zh.to_owned() };
    Value::Array(
        FUNCTIONS
            .iter()
            .map(|f| json!({ "name": f.name, "category": pick(f.category), "format": f.format, "description": pick(f.description) }))
            .collect(),
    )
}

/// Parses a formula; the error says where and what was expected.
pub fn parse(src: &str) -> Result<Expr, String> {
    if src.len() > MAX_LEN {
        return Err(format!("a formula is at most {MAX_LEN} bytes"));
    }
    let tokens = lex(src)?;
    let mut p = Parser { tokens, pos: 0, depth: 0 };
    let e = p.expr()?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(format!("unexpected {} after the end of the formula", t.describe())),
    }
}

/// Checks a `formula = { var = "<formula>", … }` table before it runs: every value a string that parses.
/// The error names the variable (`formula.<var>: …`).
pub fn check_set(set: &Map<String, Value>) -> Result<(), String> {
    for (var, src) in set {
        let src = src.as_str().ok_or_else(|| format!("formula.{var}: expected a formula as a string"))?;
        parse(src).map_err(|e| format!("formula.{var}: {e}"))?;
    }
    Ok(())
}

/// Runs a `formula` table over `vars` in order, each result set before the next formula reads it. The
/// error names the variable (`formula <var>: …`).
pub fn assign(set: &Map<String, Value>, vars: &mut Map<String, Value>, now: Millis) -> Result<(), String> {
    for (var, src) in set {
        let v = evaluate(src.as_str().unwrap_or_default(), &Env { vars, now }).map_err(|e| format!("formula {var}: {e}"))?;
        vars.insert(var.clone(), v);
    }
    Ok(())
}

/// Parses and evaluates `src` over the variables.
pub fn evaluate(src: &str, env: &Env) -> Result<Value, String> {
    eval(&parse(src)?, env)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Var(String),
    Ident(String),
    Sym(&'static str),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("number {n}"),
            Tok::Str(s) => format!("text {s:?}"),
            Tok::Var(v) => format!("{{!{v}}}"),
            Tok::Ident(i) => format!("name {i}"),
            Tok::Sym(s) => format!("{s:?}"),
        }
    }
}

const SYMBOLS: &[&str] = &["<=", ">=", "<>", "!=", "==", "&&", "||", "(", ")", ",", "+", "-", "*", "/", "&", "=", "<", ">", "!"];

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if let Some(after) = rest.strip_prefix("{!") {
            let end = after.find('}').ok_or("a {! variable reference is not closed with }")?;
            let name = after[..end].trim();
            if name.is_empty() {
                return Err("an empty {!} variable reference".into());
            }
            out.push(Tok::Var(name.to_owned()));
            rest = &after[end + 1..];
        } else if c == '"' || c == '\'' {
            let body = &rest[1..];
            let end = body.find(c).ok_or_else(|| format!("a text starting with {c} is not closed"))?;
            out.push(Tok::Str(body[..end].to_owned()));
            rest = &body[end + 1..];
        } else if c.is_ascii_digit() || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) {
            let end = rest.find(|d: char| !(d.is_ascii_digit() || d == '.')).unwrap_or(rest.len());
            let n: f64 = rest[..end].parse().map_err(|_| format!("{:?} is not a number", &rest[..end]))?;
            out.push(Tok::Num(n));
            rest = &rest[end..];
        } else if c.is_alphabetic() || c == '_' {
            let end = rest.find(|d: char| !(d.is_alphanumeric() || d == '_')).unwrap_or(rest.len());
            out.push(Tok::Ident(rest[..end].to_owned()));
            rest = &rest[end..];
        } else if let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            out.push(Tok::Sym(sym));
            rest = &rest[sym.len()..];
        } else {
            return Err(format!("unexpected character {c:?}"));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn eat(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym) {
            self.pos += 1;
            return true;
        }
        false
    }

    fn expect(&mut self, sym: &str) -> Result<(), String> {
        match self.eat(sym) {
            true => Ok(()),
            false => Err(format!("expected {sym:?}, got {}", self.peek().map_or("the end of the formula".into(), Tok::describe))),
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("a formula nests at most {MAX_DEPTH} levels deep"));
        }
        let e = self.binary(0);
        self.depth -= 1;
        e
    }

    /// Precedence climbing: `||` < `&&` < comparisons < `&` < `+ -` < `* /`.
    fn binary(&mut self, min: u8) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while let Some(Tok::Sym(sym)) = self.peek() {
            let (op, prec) = match *sym {
                "||" => (Op::Or, 1),
                "&&" => (Op::And, 2),
                "=" | "==" => (Op::Eq, 3),
                "!=" | "<>" => (Op::Ne, 3),
                "<" => (Op::Lt, 3),
                ">" => (Op::Gt, 3),
                "<=" => (Op::Le, 3),
                ">=" => (Op::Ge, 3),
                "&" => (Op::Join, 4),
                "+" => (Op::Add, 5),
                "-" => (Op::Sub, 5),
                "*" => (Op::Mul, 6),
                "/" => (Op::Div, 6),
                _ => break,
            };
            if prec < min {
                break;
            }
            self.pos += 1;
            let right = self.binary(prec + 1)?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat("-") {
            return Ok(Expr::Neg(Box::new(self.nested_unary()?)));
        }
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.nested_unary()?)));
        }
        self.primary()
    }

    fn nested_unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("a formula nests at most {MAX_DEPTH} levels deep"));
        }
        let e = self.unary();
        self.depth -= 1;
        e
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let tok = self.peek().cloned().ok_or("the formula ends where a value was expected")?;
        self.pos += 1;
        match tok {
            Tok::Num(n) => Ok(Expr::Lit(number(n))),
            Tok::Str(s) => Ok(Expr::Lit(Value::String(s))),
            Tok::Var(v) => Ok(Expr::Var(v)),
            Tok::Sym("(") => {
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Ident(name) => match name.to_ascii_lowercase().as_str() {
                "true" => Ok(Expr::Lit(Value::Bool(true))),
                "false" => Ok(Expr::Lit(Value::Bool(false))),
                "null" => Ok(Expr::Lit(Value::Null)),
                _ => self.call(&name),
            },
            other => Err(format!("unexpected {}", other.describe())),
        }
    }

    fn call(&mut self, name: &str) -> Result<Expr, String> {
        let f = FUNCTIONS
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("unknown function {name} (the formula catalogue lists them)"))?;
        self.expect("(")?;
        let mut args = Vec::new();
        if !self.eat(")") {
            loop {
                args.push(self.expr()?);
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        }
        let fits = args.len() >= f.min_args && f.max_args.is_none_or(|m| args.len() <= m);
        if !fits {
            return Err(format!("{} takes {}: {}", f.name, arity(f), f.format));
        }
        Ok(Expr::Call(f, args))
    }
}

fn arity(f: &Function) -> String {
    match f.max_args {
        Some(m) if m == f.min_args => format!("{m} argument(s)"),
        Some(m) => format!("{}–{m} arguments", f.min_args),
        None => format!("at least {} argument(s)", f.min_args),
    }
}

fn eval(e: &Expr, env: &Env) -> Result<Value, String> {
    match e {
        Expr::Lit(v) => Ok(v.clone()),
        Expr::Var(path) => {
            let (head, rest) = path.split_once('.').unwrap_or((path, ""));
            Ok(env.vars.get(head).and_then(|v| keypath::json_at(v, rest)).cloned().unwrap_or(Value::Null))
        }
        Expr::Neg(x) => Ok(number(-num(&eval(x, env)?, "-")?)),
        Expr::Not(x) => Ok(json!(!truthy(&eval(x, env)?))),
        Expr::Bin(Op::And, a, b) => Ok(json!(truthy(&eval(a, env)?) && truthy(&eval(b, env)?))),
        Expr::Bin(Op::Or, a, b) => Ok(json!(truthy(&eval(a, env)?) || truthy(&eval(b, env)?))),
        Expr::Bin(op, a, b) => binary(*op, &eval(a, env)?, &eval(b, env)?),
        Expr::Call(f, args) => (f.eval)(args, env).map_err(|m| format!("{}: {m}", f.name)),
    }
}

fn binary(op: Op, a: &Value, b: &Value) -> Result<Value, String> {
    let sym = match op {
        Op::Add => "+",
        Op::Sub => "-",
        Op::Mul => "*",
        Op::Div => "/",
        _ => "",
    };
    match op {
        Op::Add => Ok(number(num(a, sym)? + num(b, sym)?)),
        Op::Sub => Ok(number(num(a, sym)? - num(b, sym)?)),
        Op::Mul => Ok(number(num(a, sym)? * num(b, sym)?)),
        Op::Div => {
            let d = num(b, sym)?;
            if d == 0.0 {
                return Err("division by zero".into());
            }
            Ok(number(num(a, sym)? / d))
        }
        Op::Join => Ok(json!(format!("{}{}", text_of(a), text_of(b)))),
        Op::Eq => Ok(json!(same(a, b))),
        Op::Ne => Ok(json!(!same(a, b))),
        Op::Lt | Op::Gt | Op::Le | Op::Ge => {
            let ord = order(a, b).ok_or_else(|| format!("cannot compare {} with {}", kind(a), kind(b)))?;
            Ok(json!(match op {
                Op::Lt => ord.is_lt(),
                Op::Gt => ord.is_gt(),
                Op::Le => ord.is_le(),
                _ => ord.is_ge(),
            }))
        }
        Op::And | Op::Or => unreachable_logic(),
    }
}

/// `&&`/`||` are evaluated lazily in [`eval`] and never reach [`binary`].
fn unreachable_logic() -> Result<Value, String> {
    Err("internal: logical operator evaluated eagerly".into())
}

/// Whole numbers stay integers in JSON (`3`, not `3.0`); non-finite results become null.
fn number(n: f64) -> Value {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15 {
        json!(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn num(v: &Value, what: &str) -> Result<f64, String> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| "a number out of range".into()),
        Value::Null => Ok(0.0),
        Value::String(s) => s.trim().parse().map_err(|_| format!("{what} expects numbers, got the text {s:?}")),
        other => Err(format!("{what} expects numbers, got {}", kind(other))),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && !s.eq_ignore_ascii_case("false"),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn args(a: &[Expr], e: &Env) -> Result<Vec<Value>, String> {
    a.iter().map(|x| eval(x, e)).collect()
}

fn num1(a: &[Expr], e: &Env, f: fn(f64) -> f64) -> Result<Value, String> {
    Ok(number(f(num(&eval(&a[0], e)?, "the argument")?)))
}

fn fold(a: &[Expr], e: &Env, f: fn(f64, f64) -> f64) -> Result<Value, String> {
    let values = args(a, e)?;
    let mut it = values.iter().map(|v| num(v, "every argument"));
    let first = it.next().unwrap_or(Ok(0.0))?;
    it.try_fold(first, |acc, v| v.map(|v| f(acc, v))).map(number)
}

fn round(a: &[Expr], e: &Env) -> Result<Value, String> {
    let (n, digits) = (num(&eval(&a[0], e)?, "number")?, num(&eval(&a[1], e)?, "digits")?);
    let digits = digits.clamp(-15.0, 15.0) as i32;
    let scale = 10f64.powi(digits);
    Ok(number((n * scale).round() / scale))
}

fn modulo(a: &[Expr], e: &Env) -> Result<Value, String> {
    let (n, d) = (num(&eval(&a[0], e)?, "number")?, num(&eval(&a[1], e)?, "divisor")?);
    if d == 0.0 {
        return Err("division by zero".into());
    }
    Ok(number(n % d))
}

fn sqrt(a: &[Expr], e: &Env) -> Result<Value, String> {
    let n = num(&eval(&a[0], e)?, "number")?;
    if n < 0.0 {
        return Err("the square root of a negative number".into());
    }
    Ok(number(n.sqrt()))
}

fn power(a: &[Expr], e: &Env) -> Result<Value, String> {
    let (n, p) = (num(&eval(&a[0], e)?, "number")?, num(&eval(&a[1], e)?, "exponent")?);
    Ok(number(n.powf(p)))
}

fn text1(a: &[Expr], e: &Env, f: fn(&str) -> String) -> Result<Value, String> {
    Ok(json!(f(&text_of(&eval(&a[0], e)?))))
}

fn concat(a: &[Expr], e: &Env) -> Result<Value, String> {
    Ok(json!(args(a, e)?.iter().map(text_of).collect::<String>()))
}

fn len(a: &[Expr], e: &Env) -> Result<Value, String> {
    Ok(json!(text_of(&eval(&a[0], e)?).chars().count()))
}

fn count_arg(v: &Value) -> Result<usize, String> {
    let n = num(v, "count")?;
    if n < 0.0 {
        return Err("a count cannot be negative".into());
    }
    Ok(n.min(1e9) as usize)
}

fn left(a: &[Expr], e: &Env) -> Result<Value, String> {
    let (s, n) = (text_of(&eval(&a[0], e)?), count_arg(&eval(&a[1], e)?)?);
    Ok(json!(s.chars().take(n).collect::<String>()))
}

fn right(a: &[Expr], e: &Env) -> Result<Value, String> {
    let (s, n) = (text_of(&eval(&a[0], e)?), count_arg(&eval(&a[1], e)?)?);
    let total = s.chars().count();
    Ok(json!(s.chars().skip(total.saturating_sub(n)).collect::<String>()))
}

fn mid(a: &[Expr], e: &Env) -> Result<Value, String> {
    let s = text_of(&eval(&a[0], e)?);
    let start = count_arg(&eval(&a[1], e)?)?.max(1);
    let n = count_arg(&eval(&a[2], e)?)?;
    Ok(json!(s.chars().skip(start - 1).take(n).collect::<String>()))
}

fn substitute(a: &[Expr], e: &Env) -> Result<Value, String> {
    let v = args(a, e)?;
    let (s, old, new) = (text_of(&v[0]), text_of(&v[1]), text_of(&v[2]));
    if old.is_empty() {
        return Ok(json!(s));
    }
    Ok(json!(s.replace(&old, &new)))
}

fn contains(a: &[Expr], e: &Env) -> Result<Value, String> {
    let v = args(a, e)?;
    Ok(json!(text_of(&v[0]).contains(&text_of(&v[1]))))
}

fn begins(a: &[Expr], e: &Env) -> Result<Value, String> {
    let v = args(a, e)?;
    Ok(json!(text_of(&v[0]).starts_with(&text_of(&v[1]))))
}

fn value(a: &[Expr], e: &Env) -> Result<Value, String> {
    let s = text_of(&eval(&a[0], e)?);
    s.trim().parse::<f64>().map(number).map_err(|_| format!("{s:?} is not a number"))
}

fn if_(a: &[Expr], e: &Env) -> Result<Value, String> {
    match truthy(&eval(&a[0], e)?) {
        true => eval(&a[1], e),
        false => eval(&a[2], e),
    }
}

fn and(a: &[Expr], e: &Env) -> Result<Value, String> {
    for x in a {
        if !truthy(&eval(x, e)?) {
            return Ok(json!(false));
        }
    }
    Ok(json!(true))
}

fn or(a: &[Expr], e: &Env) -> Result<Value, String> {
    for x in a {
        if truthy(&eval(x, e)?) {
            return Ok(json!(true));
        }
    }
    Ok(json!(false))
}

fn blank_value(a: &[Expr], e: &Env) -> Result<Value, String> {
    let v = eval(&a[0], e)?;
    match blank(&v) {
        true => eval(&a[1], e),
        false => Ok(v),
    }
}

fn case(a: &[Expr], e: &Env) -> Result<Value, String> {
    if !a.len().is_multiple_of(2) {
        return Err("CASE takes a value, then pairs of match and result, then the result when none matches".into());
    }
    let v = eval(&a[0], e)?;
    let pairs = &a[1..a.len() - 1];
    for pair in pairs.chunks(2) {
        if same(&v, &eval(&pair[0], e)?) {
            return eval(&pair[1], e);
        }
    }
    eval(&a[a.len() - 1], e)
}

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC offset"))
}

fn datetime_text(ms: Millis) -> String {
    china().timestamp_millis_opt(ms).single().map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

/// A date or date-time text (`yyyy-MM-dd[ HH:mm:ss]`), or epoch milliseconds, as a date-time.
fn date_of(v: &Value) -> Result<(NaiveDateTime, bool), String> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
                return Ok((t, true));
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| (t, false))
                .ok_or_else(|| format!("{s:?} is not a date (yyyy-MM-dd or yyyy-MM-dd HH:mm:ss)"))
        }
        Value::Number(n) => n
            .as_i64()
            .and_then(|ms| china().timestamp_millis_opt(ms).single())
            .map(|t| (t.naive_local(), true))
            .ok_or_else(|| "a time out of range".into()),
        other => Err(format!("expected a date, got {}", kind(other))),
    }
}

fn add_days(a: &[Expr], e: &Env) -> Result<Value, String> {
    let (t, with_time) = date_of(&eval(&a[0], e)?)?;
    let days = num(&eval(&a[1], e)?, "days")?;
    if days.abs() > 3_650_000.0 {
        return Err("too many days".into());
    }
    let moved = t.checked_add_signed(Duration::days(days as i64)).ok_or("a date out of range")?;
    Ok(json!(if with_time { moved.format("%Y-%m-%d %H:%M:%S").to_string() } else { moved.format("%Y-%m-%d").to_string() }))
}

fn date_value(a: &[Expr], e: &Env) -> Result<Value, String> {
    let (t, _) = date_of(&eval(&a[0], e)?)?;
    Ok(json!(t.format("%Y-%m-%d").to_string()))
}

fn date_part(a: &[Expr], e: &Env, f: fn(&NaiveDateTime) -> i64) -> Result<Value, String> {
    let (t, _) = date_of(&eval(&a[0], e)?)?;
    Ok(json!(f(&t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(src: &str, vars: Value) -> Result<Value, String> {
        let vars = vars.as_object().cloned().unwrap_or_default();
        // 2026-06-01 10:00:00 in China time.
        evaluate(src, &Env { vars: &vars, now: 1_780_279_200_000 })
    }

    #[test]
    fn arithmetic_text_logic_and_dates() {
        let vars = json!({ "qty": 12, "price": 2.5, "name": " Widget ", "order": { "lines": [{ "sku": "A-1" }] }, "empty": "" });
        assert_eq!(run("{!qty} * {!price} + 1", vars.clone()), Ok(json!(31)));
        assert_eq!(run("-(1 + 2) * 3", vars.clone()), Ok(json!(-9)));
        assert_eq!(run("ROUND(10 / 3, 2)", vars.clone()), Ok(json!(3.33)));
        assert_eq!(run("UPPER(TRIM({!name})) & '-' & {!order.lines.0.sku}", vars.clone()), Ok(json!("WIDGET-A-1")));
        assert_eq!(run("IF({!qty} > 10, \"bulk\", \"single\")", vars.clone()), Ok(json!("bulk")));
        assert_eq!(run("CASE({!qty}, 1, 'one', 12, 'dozen', 'many')", vars.clone()), Ok(json!("dozen")));
        assert_eq!(run("BLANKVALUE({!empty}, 'n/a') & BLANKVALUE({!missing}, '!')", vars.clone()), Ok(json!("n/a!")));
        assert_eq!(run("AND({!qty} >= 12, NOT(ISBLANK({!name}))) && !false", vars.clone()), Ok(json!(true)));
        assert_eq!(run("MID('低代码平台', 4, 2) & LEN('低代码')", vars.clone()), Ok(json!("平台3")));
        assert_eq!(run("ADDDAYS('2026-02-27', 2)", vars.clone()), Ok(json!("2026-03-01")));
        assert_eq!(run("ADDDAYS(NOW(), -1)", vars.clone()), Ok(json!("2026-05-31 10:00:00")));
        assert_eq!(run("TODAY()", vars.clone()), Ok(json!("2026-06-01")));
        assert_eq!(run("YEAR('2026-06-01') * 100 + MONTH('2026-06-01 08:00:00')", vars.clone()), Ok(json!(202606)));
        assert_eq!(run("VALUE('42') + MAX(1, 7, 3) + MIN(4, 2) + MOD(7, 4) + ABS(-1)", vars), Ok(json!(55)));
    }

    #[test]
    fn failures_say_what_is_wrong() {
        assert!(run("1 +", json!({})).is_err_and(|e| e.contains("ends where a value was expected")));
        assert!(run("NOPE(1)", json!({})).is_err_and(|e| e.contains("unknown function NOPE")));
        assert!(run("IF(1, 2)", json!({})).is_err_and(|e| e.contains("IF takes 3 argument(s)")));
        assert!(run("1 / 0", json!({})).is_err_and(|e| e.contains("division by zero")));
        assert!(run("'a' * 2", json!({})).is_err_and(|e| e.contains("expects numbers")));
        assert!(run("{!x", json!({})).is_err_and(|e| e.contains("not closed")));
        assert!(run("ADDDAYS('tomorrow', 1)", json!({})).is_err_and(|e| e.starts_with("ADDDAYS: ")));
        assert!(run("1 2", json!({})).is_err_and(|e| e.contains("after the end")));
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert!(run(&deep, json!({})).is_err_and(|e| e.contains("nests at most")));
        assert!(run(&"-".repeat(500), json!({})).is_err_and(|e| e.contains("nests at most")));
    }

    #[test]
    fn the_catalogue_lists_every_function_once_with_its_format() {
        let list = catalogue(false);
        let names: Vec<&str> = list.as_array().into_iter().flatten().filter_map(|f| f["name"].as_str()).collect();
        let unique: std::collections::HashSet<&&str> = names.iter().collect();
        assert_eq!(names.len(), unique.len());
        for f in FUNCTIONS {
            assert!(f.format.starts_with(&format!("{}(", f.name)), "{}", f.name);
        }
        assert_eq!(
            catalogue(true)[0],
            json!({ "name": "ABS", "category": "Math", "format": "ABS(number)", "description": "The absolute value of a number" })
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(src in ".{0,200}") {
            let _ = run(&src, json!({ "a": 1, "b": "x" }));
        }

        #[test]
        fn never_panics_on_formula_shaped_text(src in "[A-Z(){}!,'\" 0-9.+*/&<>=a-z-]{0,120}") {
            let _ = run(&src, json!({ "a": [1, 2], "b": { "c": "2026-01-01" } }));
        }
    }
}
