/**
 * One declaration per configuration field: type, bounds, default and a one-sentence description.
 * Validation (`validate-fields.ts`), the JSON Schema (`json-schema.ts`) and help text all derive
 * from these values, so a default or a bound is never written twice.
 */
export type Field =
  | StringField
  | NumberField
  | BooleanField
  | ArrayField
  | ObjectField
  | MapField
  | OneOfField
  | TaggedField
  | AnyField;

interface Base<T> {
  description: string;
  default?: T;
}

export interface StringField extends Base<string> {
  type: 'string';
  enum?: readonly string[];
  pattern?: string;
  /** A file or folder path, resolved against the spec's folder; `input` paths are hashed into the cache key. */
  path?: 'input' | 'output';
  /** enum only: other spellings accepted for a value (`mse` → `mean_squared_error`); validation returns the value. */
  aliases?: Readonly<Record<string, string>>;
  /** enum only: values and aliases match in any letter case (`Adam`), as Keras reads optimizer names. */
  ignoreCase?: boolean;
}

export interface NumberField extends Base<number> {
  type: 'number';
  integer?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export interface BooleanField extends Base<boolean> {
  type: 'boolean';
}

export interface ArrayField extends Base<unknown[]> {
  type: 'array';
  items: Field;
  minItems?: number;
}

export interface ObjectField extends Base<Record<string, unknown>> {
  type: 'object';
  properties: Record<string, Field>;
  required?: readonly string[];
  /** Other names accepted for a key (`lr` → `learning_rate`); validation returns the key; giving both is an error. */
  keyAliases?: Readonly<Record<string, string>>;
}

/** An object with free-form keys whose values share one field type. */
export interface MapField extends Base<Record<string, unknown>> {
  type: 'map';
  values: Field;
  keyPattern?: string;
}

/** The first variant whose JSON type matches the value is used (e.g. a preset name or a full object). */
export interface OneOfField extends Base<unknown> {
  type: 'oneOf';
  variants: Field[];
}

/** Objects told apart by one key, e.g. layers by `type`. */
export interface TaggedField extends Base<Record<string, unknown>> {
  type: 'tagged';
  tag: string;
  variants: Record<string, ObjectField>;
}

export interface AnyField extends Base<unknown> {
  type: 'any';
}

type Opts<F> = Omit<F, 'type' | 'description'>;

/** Small constructors so declarations read as one line each. */
export const f = {
  string: (description: string, o: Opts<StringField> = {}): StringField => ({ type: 'string', description, ...o }),
  enum: (description: string, values: readonly string[], o: Opts<StringField> = {}): StringField => ({
    type: 'string',
    description,
    enum: values,
    ...o,
  }),
  path: (description: string, o: Opts<StringField> = {}): StringField => ({ type: 'string', description, path: 'input', ...o }),
  number: (description: string, o: Opts<NumberField> = {}): NumberField => ({ type: 'number', description, ...o }),
  int: (description: string, o: Opts<NumberField> = {}): NumberField => ({ type: 'number', integer: true, description, ...o }),
  bool: (description: string, o: Opts<BooleanField> = {}): BooleanField => ({ type: 'boolean', description, ...o }),
  array: (description: string, items: Field, o: Opts<Omit<ArrayField, 'items'>> = {}): ArrayField => ({
    type: 'array',
    description,
    items,
    ...o,
  }),
  object: (
    description: string,
    properties: Record<string, Field>,
    o: Opts<Omit<ObjectField, 'properties'>> = {},
  ): ObjectField => ({ type: 'object', description, properties, ...o }),
  map: (description: string, values: Field, o: Opts<Omit<MapField, 'values'>> = {}): MapField => ({
    type: 'map',
    description,
    values,
    ...o,
  }),
  oneOf: (description: string, variants: Field[], o: Opts<Omit<OneOfField, 'variants'>> = {}): OneOfField => ({
    type: 'oneOf',
    description,
    variants,
    ...o,
  }),
  tagged: (description: string, tag: string, variants: Record<string, ObjectField>): TaggedField => ({
    type: 'tagged',
    description,
    tag,
    variants,
  }),
  any: (description: string, o: Opts<AnyField> = {}): AnyField => ({ type: 'any', description, ...o }),
};
