/** Model references live in core (a train stage's `init_from` reads them too); re-exported for the app layer. */
export * from '../../core/models/model-ref.js';
