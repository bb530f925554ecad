/**
 * The DIMSE statuses peerpacs answers with, and why each was chosen (PS3.4 Annex B for C-STORE,
 * C.4 for C-FIND/C-MOVE/C-GET, PS3.7 Annex C for the general ones). Every failure goes out with
 * an Error Comment (0000,0902) naming the reason; the comment never carries PHI or UIDs.
 * Below DIMSE, the upper layer answers (A-ASSOCIATE-RJ and A-ABORT, with their PS3.8 sources and
 * reasons) are in ul-replies.ts, and which protocol error gets which one in pdu-guard.ts and
 * associate-rq.ts.
 */
export const STATUS = {
  success: 0x0000,
  pending: 0xff00,
  cancel: 0xfe00,
  /** PS3.7 C.5.11 Refused: Not Authorized — the calling AE lacks the permission (store, query, retrieve). */
  notAuthorized: 0x0124,
  /** PS3.7 C.5.4 Failure: Duplicate SOP Instance — the same SOP Instance UID is stored with other bytes; the stored one is kept. */
  duplicateInstance: 0x0111,
  /** PS3.7 C.5.6 Processing Failure — anything unexpected (a damaged index, a bug). */
  processingFailure: 0x0110,
  /** PS3.7 C.5.22 SOP Class not Supported — a request on a presentation context that was not accepted. */
  sopClassNotSupported: 0x0122,
  /** PS3.4 B.2.3 Refused: Out of Resources — the disk or the store failed (ENOSPC, EIO), or the node is stopping; C.4.1.1.4: too many C-FIND matches. */
  outOfResources: 0xa700,
  /** PS3.4 C.4.2.1.5 Refused: Out of Resources – Unable to perform sub-operations (destination unreachable, rejected us). */
  subOperationsImpossible: 0xa702,
  /** PS3.4 C.4.2.1.5 Refused: Move Destination unknown. */
  moveDestinationUnknown: 0xa801,
  /**
   * PS3.4 B.2.3 Error: Data Set does not match SOP Class — the dataset's SOP Class/Instance UID
   * differ from the command's; C.4: Identifier does not match SOP Class (bad Query/Retrieve Level).
   */
  doesNotMatch: 0xa900,
  /** PS3.4 B.2.3 Error: Cannot understand / C.4 Unable to process — malformed dataset, invalid matching key. */
  cannotUnderstand: 0xc000,
  /** PS3.4 C.4.2.1.5 Warning: Sub-operations Complete – One or more Failures or Warnings. */
  someFailed: 0xb000
} as const
