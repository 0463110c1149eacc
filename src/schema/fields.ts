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
  variants: readonly Field[];
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
/** The options of a builder with a typed default (an enum's default is one of its values). */
type With<F, T> = Omit<Opts<F>, 'default'> & { default?: T };

/**
 * Small constructors so declarations read as one line each. Each returns its field with the types it
 * was given kept (an enum's values as a literal union, an object's properties and required keys, a
 * default when one is set), so that {@link Infer} can derive the TypeScript type of a declaration:
 * a config type is never written beside its fields, and cannot drift from them.
 */
export const f = {
  string: <O extends Opts<StringField> = {}>(description: string, o?: O) => ({ type: 'string', description, ...o }) as StringField & NoInfer<O>,
  enum: <const V extends string, O extends With<StringField, NoInfer<V>> = {}>(description: string, values: readonly V[], o?: O) =>
    ({ type: 'string', description, enum: values, ...o }) as Omit<StringField, 'enum'> & { enum: readonly NoInfer<V>[] } & NoInfer<O>,
  path: <O extends Opts<StringField> = {}>(description: string, o?: O) => ({ type: 'string', description, path: 'input', ...o }) as StringField & NoInfer<O>,
  number: <O extends Opts<NumberField> = {}>(description: string, o?: O) => ({ type: 'number', description, ...o }) as NumberField & NoInfer<O>,
  int: <O extends Opts<NumberField> = {}>(description: string, o?: O) => ({ type: 'number', integer: true, description, ...o }) as NumberField & NoInfer<O>,
  bool: <O extends Opts<BooleanField> = {}>(description: string, o?: O) => ({ type: 'boolean', description, ...o }) as BooleanField & NoInfer<O>,
  array: <I extends Field, O extends Opts<Omit<ArrayField, 'items'>> = {}>(description: string, items: I, o?: O) =>
    ({ type: 'array', description, items, ...o }) as Omit<ArrayField, 'items'> & { items: NoInfer<I> } & NoInfer<O>,
  object: <P extends Record<string, Field>, const R extends readonly string[] = [], O extends Opts<Omit<ObjectField, 'properties' | 'required'>> = {}>(
    description: string,
    properties: P,
    o?: O & { required?: R },
  ) => ({ type: 'object', description, properties, ...o }) as Omit<ObjectField, 'properties' | 'required'> & { properties: NoInfer<P>; required?: NoInfer<R> } & NoInfer<O>,
  map: <V extends Field, O extends Opts<Omit<MapField, 'values'>> = {}>(description: string, values: V, o?: O) =>
    ({ type: 'map', description, values, ...o }) as Omit<MapField, 'values'> & { values: NoInfer<V> } & NoInfer<O>,
  oneOf: <const V extends readonly Field[], O extends Opts<Omit<OneOfField, 'variants'>> = {}>(description: string, variants: V, o?: O) =>
    ({ type: 'oneOf', description, variants, ...o }) as Omit<OneOfField, 'variants'> & { variants: NoInfer<V> } & NoInfer<O>,
  tagged: <const T extends string, V extends Record<string, ObjectField>>(description: string, tag: T, variants: V) =>
    ({ type: 'tagged', description, tag, variants }) as Omit<TaggedField, 'tag' | 'variants'> & { tag: NoInfer<T>; variants: NoInfer<V> },
  any: <O extends Opts<AnyField> = {}>(description: string, o?: O) => ({ type: 'any', description, ...o }) as AnyField & NoInfer<O>,
};

/** `{ a: 1 } & { b?: 2 }` shown as `{ a: 1; b?: 2 }`. */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Whether validation fills the field in when its key is missing (it declares a default). */
type HasDefault<F> = F extends { default: infer D } ? (undefined extends D ? false : true) : false;

type RequiredKeys<F> = F extends { required?: infer R } ? (R extends readonly (infer K)[] ? K : never) : never;

/** An object's keys: `present` ones are always there (required, or given a default `Mode` fills), the others may be missing. */
type ObjectOf<P, R, Mode extends 'output' | 'input'> = Simplify<
  { [K in keyof P as K extends R ? K : Mode extends 'output' ? (HasDefault<P[K]> extends true ? K : never) : never]: Derive<P[K], Mode> } & {
    [K in keyof P as K extends R ? never : Mode extends 'output' ? (HasDefault<P[K]> extends true ? never : K) : K]?: Derive<P[K], Mode>;
  }
>;

type Derive<F, Mode extends 'output' | 'input'> = F extends { type: 'string'; enum: readonly (infer V)[] }
  ? V
  : F extends { type: 'string' }
    ? string
    : F extends { type: 'number' }
      ? number
      : F extends { type: 'boolean' }
        ? boolean
        : F extends { type: 'array'; items: infer I }
          ? Derive<I, Mode>[]
          : F extends { type: 'object'; properties: infer P }
            ? ObjectOf<P, RequiredKeys<F>, Mode>
            : F extends { type: 'map'; values: infer V }
              ? Record<string, Derive<V, Mode>>
              : F extends { type: 'oneOf'; variants: readonly (infer V)[] }
                ? Derive<V, Mode>
                : F extends { type: 'tagged'; tag: infer T extends string; variants: infer VS }
                  ? { [N in keyof VS & string]: Simplify<{ [K in T]: N } & Omit<Derive<VS[N], Mode>, T>> }[keyof VS & string]
                  : unknown;

/**
 * The TypeScript type of the value `validateField` returns for a declaration made with {@link f}:
 * enums as their literal unions (an alias or another letter case arrives as the canonical value),
 * an object's required keys and its keys with a declared default always present (validation fills
 * the default in, its own defaults too), the others optional; a tagged variant carries its tag;
 * `any` is `unknown`. Paths are strings (the loader makes them absolute; the type does not change).
 *
 * `Infer<typeof config>` is a stage's resolved `with` block, as the stage's `run` receives it.
 */
export type Infer<F> = Derive<F, 'output'>;

/**
 * The same declaration as written, before validation fills defaults in: only required keys are
 * present (enum values still canonical). For code that builds such a value itself, e.g. a model
 * config handed to `resolveModel` outside a spec: `Infer<F>` is assignable to it, not the reverse.
 */
export type InferInput<F> = Derive<F, 'input'>;
