/**
 * A small XML well-formedness check for the SVG files the suites write (there is no XML parser among
 * the dependencies): one root element, every tag closed in order, attributes quoted and unique, text
 * and attribute values free of raw `<` and of `&` that starts no entity. Returns the problems found
 * (empty: well-formed) and the root element's name.
 */
export interface XmlCheck {
  root: string | undefined;
  problems: string[];
  elements: number;
}

const NAME = /^[A-Za-z_][\w.:-]*$/;
const ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

export function checkXml(text: string): XmlCheck {
  const problems: string[] = [];
  const stack: string[] = [];
  let root: string | undefined;
  let elements = 0;
  let at = 0;
  let closedRoot = false;
  const body = text.replace(/^\s*<\?xml[^?]*\?>/, '');
  while (at < body.length && problems.length < 10) {
    const lt = body.indexOf('<', at);
    const textPart = body.slice(at, lt < 0 ? body.length : lt);
    if (ENTITY.test(textPart)) problems.push(`raw '&' in text near offset ${at}`);
    if (textPart.trim() !== '' && (stack.length === 0)) problems.push(`text outside the root element near offset ${at}`);
    if (lt < 0) break;
    if (body.startsWith('<!--', lt)) {
      const end = body.indexOf('-->', lt);
      if (end < 0) {
        problems.push('unclosed comment');
        break;
      }
      at = end + 3;
      continue;
    }
    const gt = body.indexOf('>', lt);
    if (gt < 0) {
      problems.push(`unclosed tag at offset ${lt}`);
      break;
    }
    const tag = body.slice(lt + 1, gt);
    at = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
      if (stack.length === 0) closedRoot = true;
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const inner = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([^\s/>]+)([\s\S]*)$/.exec(inner);
    if (!m || !NAME.test(m[1]!)) {
      problems.push(`bad tag '<${tag.slice(0, 30)}>'`);
      continue;
    }
    const name = m[1]!;
    if (stack.length === 0) {
      if (root !== undefined || closedRoot) problems.push(`second root element <${name}>`);
      root ??= name;
    }
    elements++;
    let attrs = m[2]!.trim();
    const seen = new Set<string>();
    while (attrs !== '') {
      const a = /^([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')\s*/.exec(attrs);
      if (!a) {
        problems.push(`bad attribute in <${name}>: '${attrs.slice(0, 30)}'`);
        break;
      }
      if (seen.has(a[1]!)) problems.push(`attribute ${a[1]} twice in <${name}>`);
      seen.add(a[1]!);
      const value = a[3] ?? a[4] ?? '';
      if (value.includes('<') || ENTITY.test(value)) problems.push(`unescaped character in ${name}@${a[1]}`);
      attrs = attrs.slice(a[0].length);
    }
    if (!selfClosing) stack.push(name);
    else if (stack.length === 0) closedRoot = true;
  }
  if (stack.length > 0) problems.push(`unclosed element(s): ${stack.join(' > ')}`);
  if (root === undefined) problems.push('no root element');
  return { root, problems, elements };
}
