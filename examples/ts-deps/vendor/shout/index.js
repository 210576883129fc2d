/** Upper-cases a phrase and adds an exclamation mark. */
export function shout(text) {
  return `${text.toUpperCase()}!`;
}
