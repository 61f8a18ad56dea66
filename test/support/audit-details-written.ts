import { readdirSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

/** One detail field an audit record can be written with: its key, the event when the writer names it, and FAMOS's own values when its type enumerates them. */
export interface WrittenDetail {
  event: string | undefined;
  key: string;
  /** String literals the value's type allows (FAMOS's own words); empty for free text, numbers, booleans. */
  values: string[];
  /** The value's type allows any string: words from outside, or FAMOS's own that its type does not list. */
  text: boolean;
  where: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

function anyString(type: ts.Type): boolean {
  return (type.isUnion() ? type.types : [type]).some((part) => (part.getFlags() & ts.TypeFlags.String) !== 0);
}

function literalValues(type: ts.Type): string[] {
  const parts = type.isUnion() ? type.types : [type];
  return parts.flatMap((part) => (part.isStringLiteral() ? [part.value] : []));
}

/** The event an object names with a string literal `event` property, if it does. */
function eventOf(checker: ts.TypeChecker, node: ts.Node): string | undefined {
  if (!ts.isObjectLiteralExpression(node)) return undefined;
  const event = checker.getTypeAtLocation(node).getProperty("event");
  if (event === undefined) return undefined;
  const values = literalValues(checker.getTypeOfSymbolAtLocation(event, node));
  return values.length === 1 ? values[0] : undefined;
}

/**
 * Every detail field src writes into an audit record, read by the type checker: the value of each
 * property named `detail` and each argument given to a parameter named `detail` (check-password's
 * `audit(event, detail)`, a passkey's `audit(…, detail)`), their fields and, where a field's type is a
 * union of string literals, those literals. A field whose type allows any string is marked `text`: its
 * words come from outside, or are FAMOS's own that the type does not list (the test sorts them).
 */
export function writtenAuditDetails(root: string): WrittenDetail[] {
  const program = ts.createProgram(sourceFiles(join(root, "src")), {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    allowImportingTsExtensions: true,
    resolveJsonModule: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const found: WrittenDetail[] = [];
  const objectParts = (type: ts.Type) => (type.isUnion() ? type.types : [type]).filter((part) => (part.getFlags() & ts.TypeFlags.Object) !== 0);
  const isObject = (expression: ts.Expression) => objectParts(checker.getTypeAtLocation(expression)).length > 0;
  const push = (key: string, value: ts.Type | string, event: string | undefined, node: ts.Node) => {
    const file = node.getSourceFile();
    const type = typeof value === "string" ? undefined : checker.getNonNullableType(value);
    const [values, text] = type === undefined ? [[value as string], false] : [literalValues(type), anyString(type)];
    found.push({ event, key, values, text, where: `${file.fileName.slice(root.length + 1)}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}` });
  };
  // A field written here is read as written: a literal's own words, before the type of the object around
  // it widens them to string. An object not written here (a parameter, a spread of one) is read by its type.
  const field = (key: string, value: ts.Expression, event: string | undefined, node: ts.Node): void => {
    if (ts.isParenthesizedExpression(value)) return field(key, value.expression, event, node);
    if (ts.isConditionalExpression(value)) return [value.whenTrue, value.whenFalse].forEach((branch) => field(key, branch, event, node));
    push(key, ts.isStringLiteral(value) ? value.text : checker.getTypeAtLocation(value), event, node);
  };
  const collect = (expression: ts.Expression, event: string | undefined): void => {
    if (ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression) || ts.isSatisfiesExpression(expression)) return collect(expression.expression, event);
    if (ts.isConditionalExpression(expression)) return [expression.whenTrue, expression.whenFalse].forEach((branch) => collect(branch, event));
    if (ts.isIdentifier(expression)) {
      const shorthand = ts.isShorthandPropertyAssignment(expression.parent) ? checker.getShorthandAssignmentValueSymbol(expression.parent) : undefined;
      const declaration = (shorthand ?? checker.getSymbolAtLocation(expression))?.valueDeclaration;
      if (declaration !== undefined && ts.isVariableDeclaration(declaration) && declaration.initializer !== undefined) return collect(declaration.initializer, event);
    }
    if (ts.isObjectLiteralExpression(expression)) {
      for (const property of expression.properties) {
        if (ts.isSpreadAssignment(property)) collect(property.expression, event);
        else if (ts.isPropertyAssignment(property)) field(property.name.getText(), property.initializer, event, property);
        else if (ts.isShorthandPropertyAssignment(property)) {
          const variable = checker.getShorthandAssignmentValueSymbol(property);
          if (variable !== undefined) push(property.name.text, checker.getTypeOfSymbolAtLocation(variable, property), event, property);
        }
      }
      return;
    }
    if (!isObject(expression)) return;
    for (const part of objectParts(checker.getTypeAtLocation(expression))) {
      for (const property of checker.getPropertiesOfType(part)) push(property.name, checker.getTypeOfSymbolAtLocation(property, expression), event, expression);
    }
  };
  for (const file of program.getSourceFiles()) {
    if (!file.fileName.startsWith(join(root, "src"))) continue;
    const visit = (node: ts.Node): void => {
      if ((ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node)) && node.name.getText(file) === "detail") {
        const value = ts.isPropertyAssignment(node) ? node.initializer : node.name;
        if (isObject(value)) collect(value, eventOf(checker, node.parent));
      }
      if (ts.isCallExpression(node)) {
        const signature = checker.getResolvedSignature(node);
        signature?.getParameters().forEach((parameter, i) => {
          const argument = node.arguments[i];
          if (parameter.name !== "detail" || argument === undefined || !isObject(argument)) return;
          collect(argument, node.arguments.find(ts.isStringLiteral)?.text);
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return found;
}
