/**
 * Filter strings (SPEC §7.3): a hand-written tokenizer and recursive-descent parser for the subset of
 * SQL `WHERE` syntax Metaxy accepts, producing the backend-neutral {@link Expr} AST.
 *
 * Grammar (keywords are case-insensitive):
 *
 *   filter    := or EOF
 *   or        := and ("OR" and)*
 *   and       := not ("AND" not)*
 *   not       := "NOT" not | predicate
 *   predicate := primary [ cmpOp operand
 *                        | "IS" ["NOT"] "NULL"
 *                        | ["NOT"] "IN" "(" literal ("," literal)* ")" ]
 *   primary   := "(" or ")" | operand
 *   operand   := name ("." name)* | literal
 *   literal   := string | ["-"] number | "TRUE" | "FALSE" | "NULL"
 */
import { FilterParseError } from "../errors.js";
import { type CompareOp, type Expr, type Literal, isNull } from "../plan/expression.js";

type TokenKind =
  | "word" // unquoted identifier or keyword
  | "qident" // "quoted" or `backquoted` identifier
  | "string" // 'single quoted' string literal
  | "number"
  | "cmp" // = != <> < <= > >= ==
  | "lparen"
  | "rparen"
  | "comma"
  | "dot"
  | "minus"
  | "arith" // + * / % || | & ^ ~ (recognised only to be rejected)
  | "eof";

interface Token {
  readonly kind: TokenKind;
  /** Identifier name, string contents, number text or operator text. */
  readonly value: string;
  /** Offset of the token in the filter text. */
  readonly pos: number;
}

const KEYWORDS = new Set(["AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE"]);

/** Operators that may follow an operand in SQL but that filter strings do not support. */
const UNSUPPORTED_OPERATORS = new Set([
  "LIKE",
  "ILIKE",
  "BETWEEN",
  "SIMILAR",
  "GLOB",
  "REGEXP",
  "RLIKE",
  "MATCH",
  "ESCAPE",
  "COLLATE",
]);

/**
 * Deepest nesting of parentheses and NOTs a filter may have. Parsing, evaluating and compiling
 * recurse once per level, and SQL engines cap expression depth (DuckDB at 1000).
 */
export const MAX_FILTER_DEPTH = 100;

/** Filters longer than this are cut short in error messages (details keep them whole). */
const SHOWN_FILTER_LENGTH = 200;

const IDENT_START = /[\p{L}_]/u;
const IDENT_PART = /[\p{L}\p{N}_$]/u;
const DIGIT = /[0-9]/;

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(private readonly text: string) {
    this.tokens = this.tokenize();
  }

  // ---------------------------------------------------------------------------------------------
  // errors

  private fail(problem: string): never {
    throw new FilterParseError(`${problem} in filter "${shownFilter(this.text)}"`, { filter: this.text });
  }

  /** Enters one nesting level (a group or a NOT). */
  private nest(pos: number): void {
    if (++this.depth > MAX_FILTER_DEPTH)
      this.fail(`Filter nests deeper than ${MAX_FILTER_DEPTH} levels at position ${pos}`);
  }

  private describe(token: Token): string {
    switch (token.kind) {
      case "eof":
        return "end of input";
      case "string":
        return `string '${token.value.replaceAll("'", "''")}'`;
      case "qident":
        return `identifier "${token.value}"`;
      default:
        return `"${token.value}"`;
    }
  }

  private unexpected(token: Token, expected?: string): never {
    const at = token.kind === "eof" ? "" : ` at position ${token.pos}`;
    this.fail(`Unexpected ${this.describe(token)}${at}${expected ? ` (expected ${expected})` : ""}`);
  }

  // ---------------------------------------------------------------------------------------------
  // tokenizer

  private tokenize(): Token[] {
    const text = this.text;
    const tokens: Token[] = [];
    // SQL engines read statement text up to the first NUL; no filter may hold one, quoted or not.
    const nul = text.indexOf("\u0000");
    if (nul !== -1) this.fail(`NUL character at position ${nul}`);
    let i = 0;
    const push = (kind: TokenKind, value: string, pos: number) => tokens.push({ kind, value, pos });

    while (i < text.length) {
      const ch = text[i];
      if (/\s/u.test(ch)) {
        i++;
        continue;
      }
      const start = i;
      if (ch === "'") {
        const [value, end] = this.readQuoted(i, "'", "string literal");
        push("string", value, start);
        i = end;
      } else if (ch === '"' || ch === "`") {
        const [value, end] = this.readQuoted(i, ch, "quoted identifier");
        if (value.length === 0) this.fail(`Empty quoted identifier at position ${start}`);
        push("qident", value, start);
        i = end;
      } else if (DIGIT.test(ch) || (ch === "." && DIGIT.test(text[i + 1] ?? "") && !this.endsName(tokens))) {
        i = this.readNumber(i);
        push("number", text.slice(start, i), start);
      } else if (IDENT_START.test(ch)) {
        while (i < text.length && IDENT_PART.test(text[i])) i++;
        push("word", text.slice(start, i), start);
      } else if (ch === "(") {
        push("lparen", ch, i++);
      } else if (ch === ")") {
        push("rparen", ch, i++);
      } else if (ch === ",") {
        push("comma", ch, i++);
      } else if (ch === ".") {
        push("dot", ch, i++);
      } else if (ch === "-") {
        push("minus", ch, i++);
      } else if (ch === "=" || ch === "<" || ch === ">" || ch === "!") {
        const two = text.slice(i, i + 2);
        if (two === "!=" || two === "<>" || two === "<=" || two === ">=" || two === "==") {
          push("cmp", two, i);
          i += 2;
        } else if (ch === "!") {
          this.fail(`Unexpected character "!" at position ${i}`);
        } else {
          push("cmp", ch, i++);
        }
      } else if (ch === "|" && text[i + 1] === "|") {
        push("arith", "||", i);
        i += 2;
      } else if ("+*/%|&^~".includes(ch)) {
        push("arith", ch, i++);
      } else {
        this.fail(`Unexpected character ${JSON.stringify(ch)} at position ${i}`);
      }
    }
    push("eof", "", text.length);
    return tokens;
  }

  /** True when the last token ends a (possibly dotted) name, so a following "." is a separator. */
  private endsName(tokens: Token[]): boolean {
    const last = tokens[tokens.length - 1];
    return last !== undefined && (last.kind === "word" || last.kind === "qident");
  }

  /** Reads a quoted run starting at `start`; a doubled quote character stands for itself. */
  private readQuoted(start: number, quote: string, what: string): [string, number] {
    const text = this.text;
    let value = "";
    let i = start + 1;
    for (;;) {
      const next = text.indexOf(quote, i);
      if (next === -1) this.fail(`Unterminated ${what} starting at position ${start}`);
      value += text.slice(i, next);
      if (text[next + 1] === quote) {
        value += quote;
        i = next + 2;
      } else {
        return [value, next + 1];
      }
    }
  }

  private readNumber(start: number): number {
    const text = this.text;
    let i = start;
    while (DIGIT.test(text[i] ?? "")) i++;
    if (text[i] === ".") {
      i++;
      while (DIGIT.test(text[i] ?? "")) i++;
    }
    if (text[i] === "e" || text[i] === "E") {
      let j = i + 1;
      if (text[j] === "+" || text[j] === "-") j++;
      if (DIGIT.test(text[j] ?? "")) {
        i = j;
        while (DIGIT.test(text[i] ?? "")) i++;
      }
    }
    if (i < text.length && (IDENT_PART.test(text[i]) || text[i] === ".")) {
      this.fail(`Malformed number "${text.slice(start, i + 1)}" at position ${start}`);
    }
    return i;
  }

  // ---------------------------------------------------------------------------------------------
  // token helpers

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.index++;
    return token;
  }

  private isKeyword(token: Token, keyword: string): boolean {
    return token.kind === "word" && token.value.toUpperCase() === keyword;
  }

  private acceptKeyword(keyword: string): boolean {
    if (this.isKeyword(this.peek(), keyword)) {
      this.index++;
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // grammar

  parse(): Expr {
    const expr = this.parseOr();
    const token = this.peek();
    if (token.kind !== "eof") {
      if (token.kind === "rparen") this.fail(`Unbalanced ")" at position ${token.pos}`);
      this.unexpected(token);
    }
    return this.predicate(expr);
  }

  private parseOr(): Expr {
    const args = [this.parseAnd()];
    while (this.acceptKeyword("OR")) args.push(this.parseAnd());
    return args.length === 1 ? args[0] : { kind: "or", args: args.map((a) => this.predicate(a)) };
  }

  private parseAnd(): Expr {
    const args = [this.parseNot()];
    while (this.acceptKeyword("AND")) args.push(this.parseNot());
    return args.length === 1 ? args[0] : { kind: "and", args: args.map((a) => this.predicate(a)) };
  }

  private parseNot(): Expr {
    const token = this.peek();
    if (!this.acceptKeyword("NOT")) return this.parsePredicate();
    this.nest(token.pos);
    const arg = this.predicate(this.parseNot());
    this.depth--;
    return { kind: "not", arg };
  }

  private parsePredicate(): Expr {
    const left = this.parsePrimary();
    const token = this.peek();

    if (token.kind === "cmp") {
      this.next();
      const op = this.compareOp(token);
      const right = this.parseOperand();
      this.checkAfterOperand();
      return this.comparison(op, this.operand(left, token), right);
    }
    if (this.isKeyword(token, "IS")) {
      this.next();
      const negated = this.acceptKeyword("NOT");
      if (!this.acceptKeyword("NULL")) {
        const what = this.peek();
        if (what.kind === "eof") this.fail(`Missing NULL after "IS${negated ? " NOT" : ""}"`);
        this.fail(
          `Unsupported "IS ${negated ? "NOT " : ""}${what.value.toUpperCase()}" at position ${token.pos} ` +
            "(only IS [NOT] NULL is supported)",
        );
      }
      return isNull(this.operand(left, token), negated);
    }
    if (this.isKeyword(token, "IN")) {
      this.next();
      return this.inList(left, false);
    }
    if (this.isKeyword(token, "NOT")) {
      const after = this.peek(1);
      if (this.isKeyword(after, "IN")) {
        this.index += 2;
        return this.inList(left, true);
      }
      if (after.kind === "word" && UNSUPPORTED_OPERATORS.has(after.value.toUpperCase())) {
        this.fail(`Unsupported operator "NOT ${after.value.toUpperCase()}"`);
      }
      this.unexpected(token);
    }
    return left;
  }

  /** `(` or → group (any expression), otherwise an operand. */
  private parsePrimary(): Expr {
    if (this.peek().kind === "lparen") return this.parseGroup();
    const operand = this.parseOperand();
    this.checkAfterOperand();
    return operand;
  }

  private parseGroup(): Expr {
    const open = this.next();
    if (this.peek().kind === "rparen") this.fail(`Empty parentheses at position ${open.pos}`);
    this.nest(open.pos);
    const inner = this.parseOr();
    this.depth--;
    if (this.peek().kind !== "rparen") {
      if (this.peek().kind === "eof") this.fail(`Missing ")" for "(" at position ${open.pos}`);
      this.unexpected(this.peek(), '")"');
    }
    this.next();
    if (inner.kind === "column" || inner.kind === "literal") this.checkAfterOperand();
    return inner;
  }

  /** A column reference or a literal (possibly parenthesised). */
  private parseOperand(): Expr {
    const token = this.peek();
    switch (token.kind) {
      case "lparen": {
        const inner = this.parseGroup();
        if (inner.kind !== "column" && inner.kind !== "literal") {
          this.fail("Unsupported operand: comparisons between boolean expressions are not supported");
        }
        return inner;
      }
      case "string":
      case "number":
      case "minus":
        return { kind: "literal", value: this.parseLiteral() };
      case "qident":
        return this.parseName();
      case "word": {
        const upper = token.value.toUpperCase();
        if (upper === "TRUE" || upper === "FALSE" || upper === "NULL") {
          return { kind: "literal", value: this.parseLiteral() };
        }
        if (KEYWORDS.has(upper)) this.unexpected(token, "a column or a literal");
        return this.parseName();
      }
      case "arith":
        return this.fail(`Unsupported operator "${token.value}" at position ${token.pos}`);
      default:
        return this.unexpected(token, "a column or a literal");
    }
  }

  /** A possibly dotted (and possibly quoted) column name; `a."b c".d` → column `a.b c.d`. */
  private parseName(): Expr {
    const parts = [this.next().value];
    while (this.peek().kind === "dot") {
      this.next();
      const part = this.peek();
      if (part.kind !== "word" && part.kind !== "qident") this.unexpected(part, 'a name after "."');
      parts.push(this.next().value);
    }
    const name = parts.join(".");
    if (this.peek().kind === "lparen") this.fail(`Unsupported function call "${name}(...)"`);
    return { kind: "column", name };
  }

  private parseLiteral(): Literal {
    const token = this.next();
    switch (token.kind) {
      case "string":
        return token.value;
      case "number":
        return this.numberValue(token.value, token.pos);
      case "minus": {
        const operand = this.peek();
        if (operand.kind !== "number") {
          this.fail(`Unsupported unary minus at position ${token.pos} (only allowed before a number)`);
        }
        this.next();
        return this.numberValue(`-${operand.value}`, operand.pos);
      }
      case "word":
        switch (token.value.toUpperCase()) {
          case "TRUE":
            return true;
          case "FALSE":
            return false;
          case "NULL":
            return null;
        }
        break;
    }
    this.unexpected(token, "a literal");
  }

  private numberValue(text: string, pos: number): number | bigint {
    if (/^-?[0-9]+$/.test(text)) {
      const big = BigInt(text);
      const asNumber = Number(big);
      return Number.isSafeInteger(asNumber) ? asNumber : big;
    }
    const value = Number(text);
    if (!Number.isFinite(value)) this.fail(`Numeric literal "${text}" at position ${pos} is out of range`);
    return value;
  }

  /** Rejects what may legally follow an operand in SQL but is not supported here. */
  private checkAfterOperand(): void {
    const token = this.peek();
    if (token.kind === "arith" || token.kind === "minus") {
      this.fail(`Unsupported arithmetic operator "${token.value}" at position ${token.pos}`);
    }
    if (token.kind === "word" && UNSUPPORTED_OPERATORS.has(token.value.toUpperCase())) {
      this.fail(`Unsupported operator "${token.value.toUpperCase()}"`);
    }
    if (token.kind === "cmp" && token.value === "==") {
      this.fail(`Unsupported operator "==" at position ${token.pos} (use "=")`);
    }
  }

  private compareOp(token: Token): CompareOp {
    switch (token.value) {
      case "<>":
      case "!=":
        return "!=";
      case "=":
      case "<":
      case "<=":
      case ">":
      case ">=":
        return token.value;
      default:
        this.fail(`Unsupported operator "${token.value}" at position ${token.pos}`);
    }
  }

  private comparison(op: CompareOp, left: Expr, right: Expr): Expr {
    const leftNull = left.kind === "literal" && left.value === null;
    const rightNull = right.kind === "literal" && right.value === null;
    if (op === "=" || op === "!=") {
      // `col = NULL` / `col != NULL` mean IS [NOT] NULL (as in Python Metaxy).
      if (rightNull && left.kind === "column") return isNull(left, op === "!=");
      if (leftNull && right.kind === "column") return isNull(right, op === "!=");
    }
    return { kind: "compare", op, left, right };
  }

  private inList(left: Expr, negated: boolean): Expr {
    if (left.kind !== "column") {
      this.fail(`Unsupported ${negated ? "NOT IN" : "IN"}: the left side must be a column`);
    }
    const open = this.peek();
    if (open.kind !== "lparen") this.unexpected(open, '"(" after IN');
    this.next();
    if (this.peek().kind === "rparen") this.fail("Unsupported empty IN list");
    const values: Literal[] = [];
    for (;;) {
      const token = this.peek();
      const isLiteral =
        token.kind === "string" ||
        token.kind === "number" ||
        token.kind === "minus" ||
        this.isKeyword(token, "TRUE") ||
        this.isKeyword(token, "FALSE") ||
        this.isKeyword(token, "NULL");
      if (!isLiteral) {
        if (token.kind === "eof") this.fail(`Missing ")" for "(" at position ${open.pos}`);
        this.fail(`Unsupported IN list item ${this.describe(token)}: the list must contain only literals`);
      }
      values.push(this.parseLiteral());
      const sep = this.peek();
      if (sep.kind === "comma") {
        this.next();
        continue;
      }
      if (sep.kind === "rparen") {
        this.next();
        break;
      }
      if (sep.kind === "arith" || sep.kind === "minus") {
        this.fail(`Unsupported arithmetic operator "${sep.value}" at position ${sep.pos}`);
      }
      if (sep.kind === "eof") this.fail(`Missing ")" for "(" at position ${open.pos}`);
      this.unexpected(sep, '"," or ")"');
    }
    return { kind: "in", column: left.name, values, negated };
  }

  /** Operand of a comparison / IS NULL: a column or a literal, not a boolean sub-expression. */
  private operand(expr: Expr, operator: Token): Expr {
    if (expr.kind !== "column" && expr.kind !== "literal") {
      this.fail(
        `Unsupported operand for "${operator.value.toUpperCase()}" at position ${operator.pos}: ` +
          "only columns and literals can be compared",
      );
    }
    return expr;
  }

  /** An expression used as a predicate: a bare column is a boolean column; literals must be boolean / NULL. */
  private predicate(expr: Expr): Expr {
    if (expr.kind === "literal" && expr.value !== null && typeof expr.value !== "boolean") {
      this.fail(`Unsupported predicate: literal ${JSON.stringify(String(expr.value))} is not a boolean`);
    }
    return expr;
  }
}

/** Parses one filter string (SPEC §7.3) into an expression. */
export function parseFilter(text: string): Expr {
  if (typeof text !== "string") {
    throw new FilterParseError(`Filter must be a string, got ${typeof text}.`, { filter: text });
  }
  if (text.trim().length === 0) {
    throw new FilterParseError("Filter string cannot be empty.", { filter: text });
  }
  return new Parser(text).parse();
}

/** Normalises user-supplied filters: strings are parsed, expressions are checked ({@link checkExpr}). */
export function parseFilters(input: string | Expr | readonly (string | Expr)[] | undefined): Expr[] {
  if (input === undefined) return [];
  const items: readonly (string | Expr)[] = Array.isArray(input) ? input : [input as string | Expr];
  return items.map((item) => (typeof item === "string" ? parseFilter(item) : checkExpr(item)));
}

/**
 * Checks an expression built in code (not parsed): known node kinds, literal values, column
 * names, no NUL characters, nesting within {@link MAX_FILTER_DEPTH}. Returns it unchanged.
 */
export function checkExpr(expr: Expr): Expr {
  const bad = (problem: string): never => {
    throw new FilterParseError(`Invalid filter expression: ${problem}`, {});
  };
  const name = (n: unknown): void => {
    if (typeof n !== "string" || n.length === 0)
      bad(`column name ${JSON.stringify(n)} is not a non-empty string`);
    if ((n as string).includes("\u0000")) bad(`column name ${JSON.stringify(n)} contains a NUL character`);
  };
  const literal = (v: unknown): void => {
    if (v === null || typeof v === "boolean" || typeof v === "bigint") return;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) bad(`literal ${v} is not a finite number`);
      return;
    }
    if (typeof v !== "string") bad(`literal ${String(v)} is not a string, number, bigint, boolean or null`);
    if ((v as string).includes("\u0000")) bad(`string literal ${JSON.stringify(v)} contains a NUL character`);
  };
  const visit = (e: Expr, depth: number): void => {
    if (depth > MAX_FILTER_DEPTH) bad(`it nests deeper than ${MAX_FILTER_DEPTH} levels`);
    if (typeof e !== "object" || e === null) bad(`${String(e)} is not an expression`);
    switch (e.kind) {
      case "column":
        name(e.name);
        break;
      case "literal":
        literal(e.value);
        break;
      case "compare":
        if (!["=", "!=", "<", "<=", ">", ">="].includes(e.op)) bad(`unknown comparison "${e.op}"`);
        visit(e.left, depth + 1);
        visit(e.right, depth + 1);
        break;
      case "and":
      case "or":
        if (!Array.isArray(e.args)) bad(`"${e.kind}" needs an args array`);
        for (const a of e.args) visit(a, depth + 1);
        break;
      case "not":
      case "isNull":
        visit(e.arg, depth + 1);
        break;
      case "in":
        name(e.column);
        if (!Array.isArray(e.values)) bad(`"in" needs a values array`);
        for (const v of e.values) literal(v);
        break;
      default:
        bad(`unknown node kind ${JSON.stringify((e as { kind?: unknown }).kind)}`);
    }
  };
  visit(expr, 0);
  return expr;
}

function shownFilter(text: string): string {
  const shown = text.length <= SHOWN_FILTER_LENGTH ? text : `${text.slice(0, SHOWN_FILTER_LENGTH)}…`;
  return shown.replaceAll("\u0000", "\\0");
}
