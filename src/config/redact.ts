/**
 * Connection strings with the password replaced by `***`. Works on garbled strings too, since
 * they are exactly the ones that end up in error messages.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      parsed.password = "***";
      return parsed.toString();
    }
  } catch {
    // not a URL: fall through to the textual redaction below
  }
  return url.replace(/(\/\/[^/@:\s]*:)[^@\s]*@/, "$1***@").replace(/(password=)[^&\s]*/gi, "$1***");
}
