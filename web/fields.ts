/**
 * Number fields that say what is wrong with them: a value that is empty, not a number, not whole, or
 * out of range is never silently replaced. The field is marked aria-invalid and a message under it (an
 * element #<id>-error, made on first use and tied to the field with aria-describedby) says what was
 * entered and what is allowed; the caller does nothing with the value until it is fixed.
 */

export interface NumberFieldSpec {
  /** How the message names the field ("Length"). */
  name: string;
  min: number;
  max: number;
  integer?: boolean;
  /** Unit for messages ("steps"). */
  unit?: string;
  /** A fuller explanation for particular values (e.g. why temperature 0 is not offered), or null. */
  explain?: (value: number) => string | null;
}

const format = (x: number): string => x.toLocaleString('en', { maximumFractionDigits: 6 });

/** The problem with `raw` as a value of `spec`, or null when it is fine. */
export function numberProblem(raw: string, spec: NumberFieldSpec): string | null {
  const range = `${spec.integer ? 'a whole number' : 'a number'} from ${format(spec.min)} to ${format(spec.max)}${spec.unit ? ` ${spec.unit}` : ''}`;
  const text = raw.trim();
  if (text === '') return `${spec.name} is empty: enter ${range}.`;
  const value = Number(text);
  if (!Number.isFinite(value)) return `${spec.name} “${text}” is not a number: enter ${range}.`;
  const explained = spec.explain?.(value);
  if (explained) return explained;
  if (spec.integer && !Number.isInteger(value)) return `${spec.name} ${format(value)} is not a whole number: enter ${range}.`;
  if (value < spec.min) return `${spec.name} ${format(value)} is below the minimum: enter ${range}.`;
  if (value > spec.max) return `${spec.name} ${format(value)} is above the maximum: enter ${range}.`;
  return null;
}

function errorElement(input: HTMLInputElement): HTMLElement {
  const id = `${input.id}-error`;
  let element = document.getElementById(id);
  if (!element) {
    element = document.createElement('p');
    element.id = id;
    element.className = 'field-error';
    element.setAttribute('aria-live', 'polite');
    (input.closest('.controls') ?? input.parentElement!).after(element);
    const described = new Set((input.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean));
    described.add(id);
    input.setAttribute('aria-describedby', [...described].join(' '));
  }
  return element;
}

/** Shows or clears the field's message; returns the value when it is valid, else null. */
export function readNumberField(input: HTMLInputElement, spec: NumberFieldSpec): number | null {
  const problem = numberProblem(input.value, spec);
  if (problem === null) {
    input.removeAttribute('aria-invalid');
    const element = document.getElementById(`${input.id}-error`);
    if (element) {
      element.textContent = '';
      element.hidden = true;
    }
    return Number(input.value.trim());
  }
  input.setAttribute('aria-invalid', 'true');
  const element = errorElement(input);
  element.textContent = problem;
  element.hidden = false;
  return null;
}

/** Validates the field as it is edited, so the message appears (and goes) without a click. */
export function watchNumberField(input: HTMLInputElement, spec: NumberFieldSpec): void {
  input.addEventListener('input', () => readNumberField(input, spec));
}
