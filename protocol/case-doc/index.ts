/** Case documents: per-study collaborative Yjs documents, their client-id binding, check and sealing. */
export { caseClientCollisions, caseClientId, CASE_CLIENT_DOMAIN } from './client-id.ts'
export { CaseUpdateRejectedError, checkCaseUpdate, DEFAULT_CASE_UPDATE_LIMITS } from './check.ts'
export type { CaseUpdateLimits, CaseUpdateRejection } from './check.ts'
export { CaseDoc, MAX_CASE_TEXT, MAX_LABEL_KEY } from './case-doc.ts'
export type { CaseChange, CaseContent, CaseDocOptions, CaseEdit, CaseNote, LabelValue } from './case-doc.ts'
export { CASE_UPDATE_AAD_DOMAIN, openCaseUpdate, sealCaseUpdate } from './seal.ts'
export type { CaseUpdateContext } from './seal.ts'
