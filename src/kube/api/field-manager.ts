/** The field manager name tenkai applies with (server-side apply). */
export const FIELD_MANAGER_NAME = "tenkai";
