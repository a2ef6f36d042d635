/**
 * Row predicates as data. Filter strings (SPEC §7.3) parse into these; the reference engine
 * evaluates them and each SQL backend compiles them, so a filter means the same everywhere.
 */
export type Literal = string | number | bigint | boolean | null;

export type CompareOp = "=" | "!=" | "<" | "<=" | ">" | ">=";

export type Expr =
  | { readonly kind: "column"; readonly name: string }
  | { readonly kind: "literal"; readonly value: Literal }
  | { readonly kind: "compare"; readonly op: CompareOp; readonly left: Expr; readonly right: Expr }
  | { readonly kind: "and"; readonly args: readonly Expr[] }
  | { readonly kind: "or"; readonly args: readonly Expr[] }
  | { readonly kind: "not"; readonly arg: Expr }
  | {
      readonly kind: "in";
      readonly column: string;
      readonly values: readonly Literal[];
      readonly negated: boolean;
    }
  | { readonly kind: "isNull"; readonly arg: Expr; readonly negated: boolean };

export const col = (name: string): Expr => ({ kind: "column", name });
export const lit = (value: Literal): Expr => ({ kind: "literal", value });
export const cmp = (op: CompareOp, left: Expr, right: Expr): Expr => ({ kind: "compare", op, left, right });
export const eq = (column: string, value: Literal): Expr => cmp("=", col(column), lit(value));
export const and = (...args: Expr[]): Expr => (args.length === 1 ? args[0] : { kind: "and", args });
export const or = (...args: Expr[]): Expr => (args.length === 1 ? args[0] : { kind: "or", args });
export const not = (arg: Expr): Expr => ({ kind: "not", arg });
export const isIn = (column: string, values: Literal[], negated = false): Expr => ({
  kind: "in",
  column,
  values,
  negated,
});
export const isNull = (arg: Expr, negated = false): Expr => ({ kind: "isNull", arg, negated });

/** Every column an expression reads. */
export function exprColumns(expr: Expr, out = new Set<string>()): Set<string> {
  switch (expr.kind) {
    case "column":
      out.add(expr.name);
      break;
    case "literal":
      break;
    case "compare":
      exprColumns(expr.left, out);
      exprColumns(expr.right, out);
      break;
    case "and":
    case "or":
      for (const a of expr.args) exprColumns(a, out);
      break;
    case "not":
    case "isNull":
      exprColumns(expr.arg, out);
      break;
    case "in":
      out.add(expr.column);
      break;
  }
  return out;
}

/** Rewrites column names (used when a dependency renames columns before its filters apply). */
export function renameExprColumns(expr: Expr, rename: (name: string) => string): Expr {
  switch (expr.kind) {
    case "column":
      return col(rename(expr.name));
    case "literal":
      return expr;
    case "compare":
      return cmp(expr.op, renameExprColumns(expr.left, rename), renameExprColumns(expr.right, rename));
    case "and":
    case "or":
      return { kind: expr.kind, args: expr.args.map((a) => renameExprColumns(a, rename)) };
    case "not":
      return not(renameExprColumns(expr.arg, rename));
    case "isNull":
      return isNull(renameExprColumns(expr.arg, rename), expr.negated);
    case "in":
      return { ...expr, column: rename(expr.column) };
  }
}
