// DOM helpers: the only way the admin page builds elements. Strings become text nodes, attributes
// are set with setAttribute: nothing from the server or the user is ever parsed as HTML.

export const $ = (id) => document.getElementById(id)

/** `h('a', { href, class, onclick }, ...children)`: an element; `on*` attributes become listeners. */
export function h (tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  setAttributes(element, attributes)
  append(element, children)
  return element
}

/** An SVG element (same rules as `h`, in the SVG namespace). */
export function svg (tag, attributes = {}, ...children) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag)
  setAttributes(element, attributes)
  append(element, children)
  return element
}

function setAttributes (element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue
    if (name === 'class') element.setAttribute('class', value)
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value)
    else element.setAttribute(name, value === true ? '' : String(value))
  }
}

export function append (element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    element.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return element
}

export function replace (element, ...children) {
  element.replaceChildren()
  return append(element, children)
}

export function show (element, visible) { element.hidden = !visible }

/** A table cell that says what it is (the phone layout shows `data-label` before the value). */
export function cell (label, ...children) {
  return h('td', { 'data-label': label }, children)
}
